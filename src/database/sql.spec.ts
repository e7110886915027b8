import { placeholders, readTime } from './sql.js';

describe('dialect-neutral raw SQL', () => {
  it('numbers placeholders for PostgreSQL and leaves SQLite text as written', () => {
    const sql = `UPDATE "t" SET a = ?, b = ? WHERE c = ? AND d IN (?, ?)`;
    expect(placeholders(sql, 'sqlite')).toBe(sql);
    expect(placeholders(sql, 'postgres')).toBe(`UPDATE "t" SET a = $1, b = $2 WHERE c = $3 AND d IN ($4, $5)`);
  });

  it('leaves a ? inside quoted strings and identifiers alone, escaped quotes included', () => {
    expect(placeholders(`SELECT '?', 'it''s ?', "odd?name" FROM t WHERE x = ?`, 'postgres')).toBe(`SELECT '?', 'it''s ?', "odd?name" FROM t WHERE x = $1`);
  });

  it('reads times from SQLite text (UTC) and PostgreSQL Dates alike', () => {
    expect(readTime('2030-02-01 10:20:30.456').toISOString()).toBe('2030-02-01T10:20:30.456Z');
    const date = new Date('2030-02-01T10:20:30.456Z');
    expect(readTime(date)).toBe(date);
  });
});
