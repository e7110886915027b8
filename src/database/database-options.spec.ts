import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseOptions } from './database-options.js';

describe('databaseOptions (SQLite)', () => {
  it("makes the database file's directory and its missing parents", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-db-'));
    try {
      const options = await databaseOptions({ type: 'sqlite', path: join(dir, 'a', 'b', 'keysmith.sqlite') });
      expect(options).toMatchObject({ type: 'sqlite', database: join(dir, 'a', 'b', 'keysmith.sqlite') });
      expect(statSync(join(dir, 'a', 'b')).isDirectory()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a directory it cannot make, rather than retrying for ever', async () => {
    // /proc answers ENOENT to mkdir although /proc exists: Node's recursive mkdir loops on it.
    await expect(databaseOptions({ type: 'sqlite', path: '/proc/keysmith-db/keysmith.sqlite' })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
