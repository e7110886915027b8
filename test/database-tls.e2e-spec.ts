import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { databaseConfigFromEnv } from '../src/config/database-config.js';
import { databaseOptions, openDataSource } from '../src/database/database-options.js';
import { authenticateSuite } from './support/auth.js';
import { createAccount, issueKey, uniqueClientId, verify } from './support/api-keys.js';
import { ensureBuilt } from './support/instances.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const REALM = 'platform';

/** Opens a data source the way Keysmith does, from the database variables alone; migrations not run. */
async function connect(env: Record<string, string>): Promise<DataSource> {
  const options = await databaseOptions(databaseConfigFromEnv(env));
  return openDataSource({ ...options, migrationsRun: false, migrations: [], poolSize: 1 } as typeof options);
}

/** Is this connection encrypted, as the server sees it? */
async function encrypted(db: DataSource): Promise<boolean> {
  const [row] = (await db.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')) as Array<{ ssl: boolean }>;
  return row.ssl;
}

/** Runs `body` on a connection opened with these variables, closed afterwards. */
async function withConnection<T>(env: Record<string, string>, body: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await connect(env);
  try {
    return await body(db);
  } finally {
    await db.destroy();
  }
}

/**
 * Keysmith on a PostgreSQL server that takes only TLS connections (scripts/postgres.sh with
 * KEYSMITH_POSTGRES_TLS=1: its own CA and a certificate for 127.0.0.1), started by this suite
 * whatever the engine of the run: each DATABASE_SSL mode connects as documented, a certificate
 * from another CA and an unencrypted connection are refused with an error that says why, and a
 * whole Keysmith (real Keycloak) and the SQLite-to-PostgreSQL copy run over verified TLS.
 */
describe('PostgreSQL over TLS (DATABASE_SSL, DATABASE_SSL_CA_FILE)', () => {
  const work = mkdtempSync(join(tmpdir(), 'keysmith-tls-'));
  const otherCa = join(work, 'other-ca.pem');
  let server: { DATABASE_URL: string; KEYSMITH_POSTGRES_DIR: string; DATABASE_SSL_CA_FILE: string };
  let app: TestApp | undefined;
  let source: TestApp | undefined;

  beforeAll(() => {
    ensureBuilt();
    const out = execFileSync('bash', ['scripts/postgres.sh', 'start'], { env: { ...process.env, KEYSMITH_POSTGRES_TLS: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    server = Object.fromEntries(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])) as typeof server;
    // A CA that did not sign the server's certificate.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=another CA', '-keyout', join(work, 'other-ca.key'), '-out', otherCa], { stdio: 'ignore' });
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await source?.close();
    if (server?.KEYSMITH_POSTGRES_DIR) execFileSync('bash', ['scripts/postgres.sh', 'stop', server.KEYSMITH_POSTGRES_DIR], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  });

  it('the server refuses a connection without TLS (DATABASE_SSL=disable), saying so', async () => {
    await expect(connect({ DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: 'disable' })).rejects.toThrow(/no pg_hba\.conf entry.*no encryption/);
  });

  it('require encrypts without checking the certificate', async () => {
    expect(await withConnection({ DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: 'require' }, encrypted)).toBe(true);
  });

  it('verify-ca and verify-full accept the certificate of the CA in DATABASE_SSL_CA_FILE, for the host of DATABASE_URL', async () => {
    for (const mode of ['verify-ca', 'verify-full']) {
      expect(await withConnection({ DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: mode, DATABASE_SSL_CA_FILE: server.DATABASE_SSL_CA_FILE }, encrypted)).toBe(true);
    }
  });

  it('verify-ca and verify-full refuse a server whose certificate another CA signed, or that no CA given vouches for', async () => {
    for (const mode of ['verify-ca', 'verify-full']) {
      await expect(connect({ DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: mode, DATABASE_SSL_CA_FILE: otherCa })).rejects.toThrow(/self[- ]signed certificate|unable to verify/i);
    }
    // Without a CA file verify-full checks against the system's CAs: none signed this one.
    await expect(connect({ DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: 'verify-full' })).rejects.toThrow(/self[- ]signed certificate|unable to (verify|get local issuer)/i);
    // verify-ca without one is refused before connecting: public CAs would vouch for a certificate of any host name.
    await expect(connect({ DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: 'verify-ca' })).rejects.toThrow(/DATABASE_SSL_CA_FILE: is required with DATABASE_SSL=verify-ca/);
  });

  it('runs Keysmith on verify-full: migrations, accounts in Keycloak, keys issued and verified, all on the encrypted connection', async () => {
    const dataDir = join(work, 'app');
    app = await createTestApp({ dataDir, env: { DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: server.DATABASE_SSL_CA_FILE } });
    expect(await encrypted(app.app.get(DataSource))).toBe(true);
    await authenticateSuite(app);
    const clientId = uniqueClientId('tls');
    await createAccount(app, REALM, clientId);
    const issued = (await issueKey(app, REALM, clientId, { name: 'over-tls', scopes: ['read:data'] })).json() as { id: string; key: string };
    expect(await verify(app, issued.key)).toMatchObject({ valid: true });
    const [row] = (await app.app.get(DataSource).query('SELECT count(*)::int AS n FROM api_keys WHERE id = $1', [issued.id])) as Array<{ n: number }>;
    expect(row.n).toBe(1);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('copies a SQLite database into an empty database on the TLS server with `database copy` (verify-full)', async () => {
    const sqliteFile = join(work, 'source', 'keysmith.sqlite');
    source = await createTestApp({ dataDir: join(work, 'source'), env: { DATABASE_URL: `sqlite:${sqliteFile}` } });
    await authenticateSuite(source);
    const clientId = uniqueClientId('tls-copy');
    await createAccount(source, REALM, clientId);
    await source.close();
    source = undefined;
    // An empty target database on the same server (the role may create databases).
    await withConnection({ DATABASE_URL: server.DATABASE_URL, DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: server.DATABASE_SSL_CA_FILE }, (admin) => admin.query('CREATE DATABASE ks_tls_copy'));
    const target = new URL(server.DATABASE_URL);
    target.pathname = '/ks_tls_copy';
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), DATABASE_URL: target.toString(), DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: server.DATABASE_SSL_CA_FILE, LOG_LEVEL: 'warn' };
    const run = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [join(process.cwd(), 'dist/cli.js'), 'database', 'copy', '--from', `sqlite:${sqliteFile}`], { env }, (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }));
    });
    expect(run).toMatchObject({ code: 0 });
    const rows = (await withConnection({ DATABASE_URL: target.toString(), DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: server.DATABASE_SSL_CA_FILE }, (db) =>
      db.query('SELECT client_id FROM service_accounts'),
    )) as Array<{ client_id: string }>;
    expect(rows.map((r) => r.client_id)).toContain(clientId);
    // The target URL carries the role's password: it never reaches the copy's output.
    expect(`${run.out}\n${run.err}`).not.toContain(decodeURIComponent(target.password));
  });

  it('logs none of the secrets, keys and tokens this suite saw', () => {
    expectNoSecretInLogs('database-tls');
  });
});
