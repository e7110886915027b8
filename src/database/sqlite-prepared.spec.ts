import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type sqlite3 from 'sqlite3';
import { PREPARED_STATEMENTS, PreparedStatementDatabase } from './sqlite-prepared.js';

describe('PreparedStatementDatabase', () => {
  let dir: string;
  let db: PreparedStatementDatabase;

  const all = (sql: string, parameters: unknown[] = []) =>
    new Promise<unknown[]>((resolve, reject) => db.all(sql, parameters, (error: Error | null, rows: unknown[]) => (error ? reject(error) : resolve(rows))));
  const run = (sql: string, parameters: unknown[] = []) =>
    new Promise<{ lastID: number; changes: number }>((resolve, reject) =>
      db.run(sql, parameters, function (this: sqlite3.RunResult, error: Error | null) {
        if (error) reject(error);
        else resolve({ lastID: this.lastID, changes: this.changes });
      }),
    );
  /** Until the statements being prepared are kept. */
  const settle = async () => {
    while (db.preparingCount > 0) await new Promise((resolve) => setImmediate(resolve));
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-prepared-'));
    db = await new Promise<PreparedStatementDatabase>((resolve, reject) => {
      const opened: PreparedStatementDatabase = new PreparedStatementDatabase(join(dir, 'test.db'), (error) => (error ? reject(error) : resolve(opened)));
    });
    await run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => db.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a statement once its text has run, and answers through it as a new statement would', async () => {
    const insert = 'INSERT INTO t (v) VALUES (?)';
    expect(await run(insert, ['a'])).toEqual({ lastID: 1, changes: 1 });
    await settle();
    expect(db.isKept(insert)).toBe(true);
    const kept = db.preparedCount;
    // Through the kept statement: the same lastID and changes, new parameters bound each time.
    expect(await run(insert, ['b'])).toEqual({ lastID: 2, changes: 1 });
    expect(await run(insert, ['c'])).toEqual({ lastID: 3, changes: 1 });
    await settle();
    expect(db.preparedCount).toBe(kept);
    const select = 'SELECT id, v FROM t WHERE id >= ? ORDER BY id';
    expect(await all(select, [2])).toEqual([
      { id: 2, v: 'b' },
      { id: 3, v: 'c' },
    ]);
    await settle();
    expect(await all(select, [3])).toEqual([{ id: 3, v: 'c' }]);
    expect(await all(select, [9])).toEqual([]);
    expect(await run('UPDATE t SET v = ? WHERE id <= ?', ['z', 2])).toMatchObject({ changes: 2 });
    expect(await run('UPDATE t SET v = ? WHERE id <= ?', ['y', 1])).toMatchObject({ changes: 1 });
  });

  it('answers concurrent calls of one kept statement each with its own rows', async () => {
    for (const v of ['a', 'b', 'c', 'd']) await run('INSERT INTO t (v) VALUES (?)', [v]);
    const select = 'SELECT v FROM t WHERE id = ?';
    await all(select, [1]);
    await settle();
    expect(db.isKept(select)).toBe(true);
    const answers = await Promise.all([1, 2, 3, 4, 1].map((id) => all(select, [id])));
    expect(answers).toEqual([[{ v: 'a' }], [{ v: 'b' }], [{ v: 'c' }], [{ v: 'd' }], [{ v: 'a' }]]);
  });

  it('never keeps a text that fails, and keeps it once it runs', async () => {
    const select = 'SELECT x FROM later WHERE x = ?';
    await expect(all(select, [1])).rejects.toThrow(/no such table: later/);
    await settle();
    expect(db.isKept(select)).toBe(false);
    await run('CREATE TABLE later (x INTEGER)');
    await run('INSERT INTO later (x) VALUES (?)', [1]);
    expect(await all(select, [1])).toEqual([{ x: 1 }]);
    await settle();
    expect(db.isKept(select)).toBe(true);
    expect(await all(select, [1])).toEqual([{ x: 1 }]);
  });

  it('sees a schema change through a kept statement', async () => {
    await run('INSERT INTO t (v) VALUES (?)', ['a']);
    const select = 'SELECT * FROM t WHERE id = ?';
    await all(select, [1]);
    await settle();
    expect(db.isKept(select)).toBe(true);
    await run('ALTER TABLE t ADD COLUMN w TEXT');
    expect(await all(select, [1])).toEqual([{ id: 1, v: 'a', w: null }]);
  });

  it(`keeps at most ${PREPARED_STATEMENTS} statements, each text answering the same when it is dropped`, async () => {
    for (let i = 0; i < PREPARED_STATEMENTS + 20; i += 1) await all(`SELECT ${i} AS n FROM t WHERE id = ?`, [1]);
    await settle();
    expect(db.preparedCount).toBe(PREPARED_STATEMENTS);
    await run('INSERT INTO t (v) VALUES (?)', ['a']);
    expect(await all('SELECT 0 AS n FROM t WHERE id = ?', [1])).toEqual([{ n: 0 }]);
    expect(await all(`SELECT ${PREPARED_STATEMENTS + 19} AS n FROM t WHERE id = ?`, [1])).toEqual([{ n: PREPARED_STATEMENTS + 19 }]);
  });

  it('does not keep a statement with RETURNING run by `run`, which would stay open', async () => {
    const insert = 'INSERT INTO t (v) VALUES (?) RETURNING id';
    for (let i = 0; i < 3; i += 1) await run(insert, ['a']);
    await settle();
    expect(db.isKept(insert)).toBe(false);
    expect(await all('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 3 }]);
  });

  it('holds no transaction open between calls of a kept statement', async () => {
    await run('PRAGMA journal_mode = WAL');
    await run('INSERT INTO t (v) VALUES (?)', ['a']);
    const select = 'SELECT v FROM t WHERE id = ?';
    await all(select, [1]);
    await settle();
    expect(db.isKept(select)).toBe(true);
    expect(await all(select, [1])).toEqual([{ v: 'a' }]);
    // Another connection writes and checkpoints the whole log: it could not (busy) if a read
    // transaction of this connection were still open.
    const { default: plain } = await import('sqlite3');
    const other = await new Promise<sqlite3.Database>((resolve, reject) => {
      const opened: sqlite3.Database = new plain.Database(join(dir, 'test.db'), (error) => (error ? reject(error) : resolve(opened)));
    });
    const otherAll = (sql: string) => new Promise<unknown[]>((resolve, reject) => other.all(sql, [], (error: Error | null, rows: unknown[]) => (error ? reject(error) : resolve(rows))));
    try {
      await otherAll("INSERT INTO t (v) VALUES ('b')");
      expect(await otherAll('PRAGMA wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
      expect(await all(select, [2])).toEqual([{ v: 'b' }]);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('closes with statements kept', async () => {
    await run('INSERT INTO t (v) VALUES (?)', ['a']);
    await all('SELECT * FROM t WHERE id = ?', [1]);
    await settle();
    expect(db.preparedCount).toBeGreaterThan(0);
    const closed = await new Promise<Error | null>((resolve) => db.close((error) => resolve(error)));
    expect(closed).toBeNull();
    // Reopened for afterEach.
    db = await new Promise<PreparedStatementDatabase>((resolve, reject) => {
      const opened: PreparedStatementDatabase = new PreparedStatementDatabase(join(dir, 'test.db'), (error) => (error ? reject(error) : resolve(opened)));
    });
    expect(await all('SELECT v FROM t')).toEqual([{ v: 'a' }]);
  });
});
