import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectories } from './output-directory.js';

describe('makeDirectories', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-out-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a directory and its missing parents, and accepts one that exists', async () => {
    await makeDirectories(join(dir, 'a', 'b', 'c'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    await expect(makeDirectories(join(dir, 'a', 'b'))).resolves.toBeUndefined();
  });

  it('refuses a path through a file', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    await expect(makeDirectories(join(dir, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('refuses, rather than retrying for ever, where the file system will not make a directory below an existing one', async () => {
    // /proc answers ENOENT to mkdir although /proc exists: Node's recursive mkdir loops on it.
    await expect(makeDirectories('/proc/keysmith-export/platform')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
