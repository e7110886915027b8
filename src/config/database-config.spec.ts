import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, loadConfig } from './app-config.js';
import { databaseConfigFromEnv, postgresTlsOptions } from './database-config.js';

const base = { KEYCLOAK_CLIENT_SECRET: 'not-a-real-secret', KEYSMITH_MASTER_KEY: 'ab'.repeat(32) };
const URL = 'postgres://keysmith:s3cret-pw@db.internal:6432/keysmith';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('database configuration', () => {
  it('selects PostgreSQL by URL, with a pool of 10 and no TLS by default; the URL (with its password) is never serialised', () => {
    const config = loadConfig({ ...base, DATABASE_URL: URL });
    expect(config.database).toMatchObject({ type: 'postgres', display: 'db.internal:6432/keysmith', ssl: { mode: 'disable' }, poolSize: 10 });
    expect(config.database.type === 'postgres' && config.database.url).toBe(URL);
    expect(JSON.stringify(config)).not.toContain('s3cret-pw');
    expect(loadConfig({ ...base, DATABASE_URL: 'postgresql://u:p@h/d', DATABASE_POOL_SIZE: '25' }).database).toMatchObject({ type: 'postgres', poolSize: 25 });
  });

  it('reads the CA file for verify-full and verify-ca', () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'keysmith-ca-')), 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = loadConfig({ ...base, DATABASE_URL: URL, DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: ca });
    expect(config.database).toMatchObject({ ssl: { mode: 'verify-full', ca: expect.stringContaining('BEGIN CERTIFICATE') } });
  });

  it('refuses each bad setting by name', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://x' })).toEqual([expect.stringMatching(/^DATABASE_URL: must be sqlite:<path>/)]);
    expect(problemsOf({ DATABASE_URL: `${URL}?sslmode=require` })).toEqual([expect.stringMatching(/^DATABASE_URL: must not carry TLS parameters/)]);
    expect(problemsOf({ DATABASE_SSL: 'require' })).toEqual(['DATABASE_SSL: applies to PostgreSQL only (DATABASE_URL is SQLite)']);
    expect(problemsOf({ DATABASE_URL: URL, DATABASE_SSL: 'require', DATABASE_SSL_CA_FILE: '/etc/ca.pem' })).toEqual(['DATABASE_SSL_CA_FILE: needs DATABASE_SSL=verify-ca or verify-full']);
    expect(problemsOf({ DATABASE_URL: URL, DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: '/nonexistent/ca.pem' })).toEqual(['DATABASE_SSL_CA_FILE: cannot be read (ENOENT)']);
    expect(problemsOf({ DATABASE_URL: URL, DATABASE_POOL_SIZE: '0' })).toEqual([expect.stringMatching(/^DATABASE_POOL_SIZE: /)]);
    expect(problemsOf({ DATABASE_URL: URL, DATABASE_SSL: 'prefer' })).toEqual([expect.stringMatching(/^DATABASE_SSL: /)]);
    // Public CAs would vouch for a certificate of any host name: verify-ca needs the CA that signed the server's.
    expect(problemsOf({ DATABASE_URL: URL, DATABASE_SSL: 'verify-ca' })).toEqual([expect.stringMatching(/^DATABASE_SSL_CA_FILE: is required with DATABASE_SSL=verify-ca/)]);
  });

  it('maps each TLS mode onto node-postgres: encrypt only, check the chain, check the chain and the host', () => {
    expect(postgresTlsOptions({ mode: 'disable', ca: undefined })).toBe(false);
    expect(postgresTlsOptions({ mode: 'require', ca: 'CA' })).toEqual({ rejectUnauthorized: false });
    const verifyCa = postgresTlsOptions({ mode: 'verify-ca', ca: 'CA' });
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca: 'CA' });
    expect(verifyCa && verifyCa.checkServerIdentity?.()).toBeUndefined();
    expect(postgresTlsOptions({ mode: 'verify-full', ca: undefined })).toEqual({ rejectUnauthorized: true });
  });

  it('gives the TypeORM CLI the same settings from the environment alone', () => {
    expect(databaseConfigFromEnv({ PATH: '/bin' })).toEqual({ type: 'sqlite', path: './data/keysmith.sqlite' });
    expect(databaseConfigFromEnv({ DATABASE_URL: URL, DATABASE_POOL_SIZE: '3' })).toMatchObject({ type: 'postgres', poolSize: 3 });
    expect(() => databaseConfigFromEnv({ DATABASE_URL: URL, DATABASE_SSL: 'on' })).toThrow(/DATABASE_SSL/);
  });
});
