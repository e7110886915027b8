import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Sql } from '../src/database/sql.js';
import { authenticateSuite } from './support/auth.js';
import { apiHeaders, createAccount, deleteAccount, issueKey, uniqueClientId, verify } from './support/api-keys.js';
import { ensureBuilt } from './support/instances.js';
import { runJob } from './support/jobs.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { createDatabase, dropDatabase, dropTestDatabase, psql } from './support/test-database.js';

const REALM = 'platform';

/** `node dist/cli.js database copy ...` with DATABASE_URL naming the target, as an operator runs it. */
function copyCli(from: string, targetUrl: string): Promise<{ code: number; out: string; err: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), DATABASE_URL: targetUrl, LOG_LEVEL: 'warn' };
  return new Promise((resolve) => {
    execFile(process.execPath, [join(process.cwd(), 'dist/cli.js'), 'database', 'copy', '--from', `sqlite:${from}`], { env }, (error, out, err) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
    );
  });
}

/**
 * Moving from SQLite to PostgreSQL: a Keysmith with accounts, keys (issued, rotated, revoked),
 * stored secrets, audit events and job runs on SQLite is copied into an empty PostgreSQL database
 * by the CLI; a Keysmith started on the copy serves the same keys, secrets, audit and runs. A
 * target that is not empty is refused and left as it was. Runs on either engine's e2e run (the
 * source is always SQLite).
 */
describe('keysmith database copy: SQLite to an empty PostgreSQL database (real Keycloak)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-copy-'));
  const sqliteFile = join(dataDir, 'source.sqlite');
  const targetName = `ks_copy_${randomBytes(4).toString('hex')}`;
  const accounts = [uniqueClientId('copy-a'), uniqueClientId('copy-b')];
  const keys: Record<'kept' | 'rotated' | 'successor' | 'revoked', { id: string; key: string }> = {} as never;
  let targetUrl: string;
  let source: TestApp;
  let copy: TestApp | undefined;
  let sourceCounts: Record<string, number>;
  let secretBefore: string;

  beforeAll(async () => {
    ensureBuilt();
    targetUrl = createDatabase(targetName);
    source = await createTestApp({ dataDir, env: { DATABASE_URL: `sqlite:${sqliteFile}` } });
    await authenticateSuite(source);
    for (const clientId of accounts) await createAccount(source, REALM, clientId);
    const issue = async (clientId: string, name: string) => (await issueKey(source, REALM, clientId, { name, scopes: ['read:data'] })).json() as { id: string; key: string };
    keys.kept = await issue(accounts[0], 'kept');
    keys.rotated = await issue(accounts[0], 'rotated');
    keys.revoked = await issue(accounts[1], 'revoked');
    const rotated = await source.inject({ method: 'POST', url: `/v1/api-keys/${keys.rotated.id}/rotate`, headers: apiHeaders(), payload: { graceHours: 24 } });
    keys.successor = rotated.json();
    source.secrets.add(keys.successor.key);
    await source.inject({ method: 'DELETE', url: `/v1/api-keys/${keys.revoked.id}`, headers: apiHeaders() });
    await source.inject({ method: 'POST', url: `/v1/realms/${REALM}/service-accounts/${accounts[1]}/secret/rotate`, headers: apiHeaders(), payload: { graceHours: 0 } });
    secretBefore = (await source.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${accounts[1]}/secret`, headers: apiHeaders() })).json().clientSecret;
    source.secrets.add(secretBefore);
    await runJob(source, 'key-expiry');
    const sql = new Sql(source.app.get(DataSource));
    sourceCounts = {};
    for (const table of ['service_accounts', 'api_keys', 'audit_events', 'job_runs']) sourceCounts[table] = Number((await sql.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`))[0].n);
    await source.close();
  }, 300_000);

  afterAll(async () => {
    if (copy) {
      for (const clientId of accounts) await deleteAccount(copy, REALM, clientId);
      await copy.close();
    }
    dropDatabase(targetName);
    // The harness's own database for this data directory, on a PostgreSQL run (the apps here use their own URLs).
    dropTestDatabase(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('copies every table, then reports the row counts and the matching key hashes and secrets', async () => {
    const result = await copyCli(sqliteFile, targetUrl);
    expect(result.err).not.toContain('refused');
    expect(result.code).toBe(0);
    for (const [table, n] of Object.entries(sourceCounts)) expect(result.out).toMatch(new RegExp(`^${table}\\s+${n} rows$`, 'm'));
    expect(result.out).toMatch(/^(leases|webhook_deliveries)\s+\d+ rows$/m);
    expect(result.out).toContain(`${sourceCounts.api_keys} API key hashes, ${sourceCounts.service_accounts} stored secrets match`);
    expect(sourceCounts.api_keys).toBe(4);
    expect(`${result.out}${result.err}`).not.toContain(secretBefore);
    expect(`${result.out}${result.err}`).not.toContain(targetUrl);
  }, 120_000);

  it('a Keysmith on the copy serves the same keys, secret, audit events and job runs', async () => {
    copy = await createTestApp({ dataDir, env: { DATABASE_URL: targetUrl } });
    await authenticateSuite(copy);
    expect((await verify(copy, keys.kept.key)).valid).toBe(true);
    expect((await verify(copy, keys.successor.key)).valid).toBe(true);
    expect(await verify(copy, keys.rotated.key)).toMatchObject({ valid: true });
    expect(await verify(copy, keys.revoked.key)).toEqual({ valid: false, code: 'REVOKED' });
    const rotatedView = (await copy.inject({ method: 'GET', url: `/v1/api-keys/${keys.rotated.id}`, headers: apiHeaders() })).json();
    expect(rotatedView.status).toBe('expiring');
    const secret = await copy.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${accounts[1]}/secret`, headers: apiHeaders() });
    expect(secret.json().clientSecret).toBe(secretBefore);
    const audit = (await copy.inject({ method: 'GET', url: `/v1/audit-events?clientId=${accounts[0]}&limit=500`, headers: apiHeaders() })).json().items;
    expect(audit.map((event: { action: string }) => event.action)).toEqual(expect.arrayContaining(['service_account.created', 'api_key.issued', 'api_key.rotated']));
    const runs = (await copy.inject({ method: 'GET', url: '/v1/jobs/key-expiry/runs', headers: apiHeaders() })).json().items;
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs[0]).toMatchObject({ job: 'key-expiry', outcome: 'success' });
    // New changes get fresh numbers after the copied ones: the sequence was moved past them.
    const lastCopied = Number(psql(targetUrl, 'SELECT COALESCE(MAX(seq), 0) FROM changes\n').trim());
    expect(lastCopied).toBeGreaterThan(0);
    expect((await copy.inject({ method: 'DELETE', url: `/v1/api-keys/${keys.kept.id}`, headers: apiHeaders() })).statusCode).toBe(204);
    expect(Number(psql(targetUrl, 'SELECT MAX(seq) FROM changes\n').trim())).toBeGreaterThan(lastCopied);
    expect(copy.logs.records().some((line) => String(line.msg).includes('could not record a change'))).toBe(false);
  }, 120_000);

  it('refuses a target that is not empty and leaves it as it was', async () => {
    const before = psql(targetUrl, 'SELECT COUNT(*) FROM api_keys\n').trim();
    const again = await copyCli(sqliteFile, targetUrl);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/refused: the target database is not empty: table \w+ has \d+ rows; nothing was written/);
    expect(psql(targetUrl, 'SELECT COUNT(*) FROM api_keys\n').trim()).toBe(before);

    const foreignName = `${targetName}_f`;
    const foreign = createDatabase(foreignName);
    try {
      psql(foreign, 'CREATE TABLE invoices (id integer)\n');
      const refused = await copyCli(sqliteFile, foreign);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('refused: the target database is not empty: it has tables Keysmith does not know (invoices)');
      expect(psql(foreign, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'\n`).trim()).toBe('1');
    } finally {
      dropDatabase(foreignName);
    }
  }, 120_000);

  it('refuses a SQLite target and a missing source, naming what is wrong', async () => {
    const sqliteTarget = await copyCli(sqliteFile, `sqlite:${join(dataDir, 'other.sqlite')}`);
    expect(sqliteTarget.code).toBe(1);
    expect(sqliteTarget.err).toContain('DATABASE_URL must name the target PostgreSQL database');
    const missing = await copyCli(join(dataDir, 'nope.sqlite'), targetUrl);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('--from: no SQLite database at');
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('database-copy');
  });
});
