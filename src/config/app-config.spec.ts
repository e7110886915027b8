import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, loadConfig } from './app-config.js';

const base = { KEYCLOAK_CLIENT_SECRET: 'not-a-real-secret', KEYSMITH_MASTER_KEY: 'ab'.repeat(32) };

function problemsOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('gives a working local setup from defaults', () => {
    const config = loadConfig(base);
    expect(config.port).toBe(8080);
    expect(config.database).toEqual({ type: 'sqlite', path: './data/keysmith.sqlite' });
    expect(config.managedRealms).toEqual(['platform']);
    expect(config.jwt).toEqual({ realm: 'platform', audience: 'keysmith', clockToleranceSeconds: 30 });
    expect(config.keycloak.maxConcurrency).toBe(4);
    expect(config.auth).toEqual({ ownerClaim: 'keysmith_owner', adminScope: 'keysmith:admin', jwksRefreshCooldownSeconds: 30, jwksCacheMaxAgeSeconds: 600, trustedCallers: ['keysmith-tester'] });
    expect(config.apiKeys.scopeEnforcement).toBe('enforce');
  });

  it('trusts no unmanaged caller by default in production, and the listed ones when set', () => {
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).auth.trustedCallers).toEqual([]);
    expect(loadConfig({ ...base, KEYSMITH_TRUSTED_CALLERS: 'ci-runner, ops-console' }).auth.trustedCallers).toEqual(['ci-runner', 'ops-console']);
    expect(problemsOf({ ...base, KEYSMITH_KEY_SCOPE_ENFORCEMENT: 'warn' }).map((p) => p.variable)).toEqual(['KEYSMITH_KEY_SCOPE_ENFORCEMENT']);
  });

  it('refuses an admin scope with a space and an owner claim that is no claim name', () => {
    expect(problemsOf({ ...base, KEYSMITH_ADMIN_SCOPE: 'keysmith admin', KEYSMITH_OWNER_CLAIM: 'owner claim' }).map((p) => p.variable).sort()).toEqual([
      'KEYSMITH_ADMIN_SCOPE',
      'KEYSMITH_OWNER_CLAIM',
    ]);
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf({ PORT: 'eighty', KEYCLOAK_URL: 'ftp://kc', KEYCLOAK_MAX_CONCURRENCY: '0', DATABASE_URL: 'mysql://x' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['DATABASE_URL', 'KEYCLOAK_CLIENT_SECRET', 'KEYCLOAK_MAX_CONCURRENCY', 'KEYCLOAK_URL', 'PORT']);
    expect(problems.find((p) => p.variable === 'KEYCLOAK_CLIENT_SECRET')?.message).toBe('is required');
    // A value given but wrong says why, not that it is missing.
    expect(problems.find((p) => p.variable === 'PORT')?.message).toBe('must be a whole number from 0 to 65535');
    expect(problems.find((p) => p.variable === 'KEYCLOAK_MAX_CONCURRENCY')?.message).toMatch(/^must be a whole number from 1 to \d+$/);
    expect(problemsOf({ ...base, KEYSMITH_API_KEY_CACHE_TTL_MS: 'abc' })).toEqual([{ variable: 'KEYSMITH_API_KEY_CACHE_TTL_MS', message: 'must be a whole number from 0 to 5000' }]);
    expect(problemsOf({ ...base, KEYSMITH_LOG_VERIFY_SAMPLE_RATE: 'abc', KEYSMITH_SECRET_HEALTH_RATE: 'abc' })).toEqual([
      { variable: 'KEYSMITH_LOG_VERIFY_SAMPLE_RATE', message: 'must be a number between 0 and 1' },
      { variable: 'KEYSMITH_SECRET_HEALTH_RATE', message: 'must be a number above 0, at most 100' },
    ]);
  });

  it('takes a blank value as no value, as an empty one, rather than as the number 0', () => {
    const config = loadConfig({ ...base, PORT: ' ', KEYSMITH_GITOPS_MAX_DELETIONS: '\t' });
    expect(config.port).toBe(loadConfig(base).port);
    expect(config.gitops.maxDeletions).toBe(loadConfig(base).gitops.maxDeletions);
    expect(loadConfig(base).gitops.maxDeletions).toBeGreaterThan(0);
    expect(problemsOf({ ...base, KEYCLOAK_CLIENT_SECRET: '  ' })).toEqual([{ variable: 'KEYCLOAK_CLIENT_SECRET', message: 'is required' }]);
  });

  it('reads trusted proxies as IPv4 and IPv6 addresses, CIDRs and proxy-addr names', () => {
    expect(loadConfig(base).trustedProxies).toEqual([]);
    const config = loadConfig({ ...base, KEYSMITH_TRUSTED_PROXIES: '127.0.0.1/32, 10.0.0.0/8,::1/128,fd00::/8,192.0.2.7,loopback' });
    expect(config.trustedProxies).toEqual(['127.0.0.1/32', '10.0.0.0/8', '::1/128', 'fd00::/8', '192.0.2.7', 'loopback']);
  });

  it.each(['10.0.0.0/33', '::1/129', 'proxy.internal', '10.0.0/8', '10.0.0.0/8/1', '10.0.0.0/x', '0.0.0.0/0', '::/0'])('refuses the trusted proxy %s', (entry) => {
    expect(problemsOf({ ...base, KEYSMITH_TRUSTED_PROXIES: `127.0.0.1/32,${entry}` })).toEqual([
      { variable: 'KEYSMITH_TRUSTED_PROXIES', message: expect.stringContaining('IPv4 or IPv6 address or CIDR') },
    ]);
  });

  it('sends to a webhook URL listed twice once', () => {
    const config = loadConfig({ ...base, KEYSMITH_WEBHOOK_URLS: 'https://hooks.example/a,https://hooks.example/b,https://hooks.example/a', KEYSMITH_WEBHOOK_SECRET: 'x'.repeat(16) });
    expect(config.webhooks.urls).toEqual(['https://hooks.example/a', 'https://hooks.example/b']);
  });

  it('refuses a webhook timeout a shutdown would not wait for, when webhooks are sent', () => {
    const hooks = { KEYSMITH_WEBHOOK_URLS: 'https://hooks.example/a', KEYSMITH_WEBHOOK_SECRET: 'x'.repeat(16) };
    expect(problemsOf({ ...base, ...hooks, KEYSMITH_WEBHOOK_TIMEOUT_MS: '30000' })).toEqual([
      { variable: 'KEYSMITH_WEBHOOK_TIMEOUT_MS', message: expect.stringContaining('below KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS (25 s)') },
    ]);
    expect(loadConfig({ ...base, ...hooks, KEYSMITH_WEBHOOK_TIMEOUT_MS: '30000', KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS: '40' }).webhooks.timeoutMs).toBe(30_000);
    // Without webhooks the timeout sends nothing: a short shutdown timeout stands on its own.
    expect(loadConfig({ ...base, KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS: '2' }).shutdownTimeoutMs).toBe(2_000);
  });

  it('refuses the retired KEYSMITH_TRUST_PROXY, pointing at KEYSMITH_TRUSTED_PROXIES', () => {
    expect(problemsOf({ ...base, KEYSMITH_TRUST_PROXY: 'true' })).toEqual([
      { variable: 'KEYSMITH_TRUST_PROXY', message: expect.stringContaining('KEYSMITH_TRUSTED_PROXIES') },
    ]);
    expect(loadConfig({ ...base, KEYSMITH_TRUST_PROXY: 'false' }).trustedProxies).toEqual([]);
  });

  it('refuses a master key of the wrong length', () => {
    expect(problemsOf({ ...base, KEYSMITH_MASTER_KEY: 'abcd' })).toEqual([
      { variable: 'KEYSMITH_MASTER_KEY', message: expect.stringContaining('32 bytes') },
    ]);
  });

  it('refuses fault points in production and names a bad one elsewhere', () => {
    expect(problemsOf({ ...base, NODE_ENV: 'production', KEYSMITH_FAULT_POINTS: 'a.b=kill' }).map((p) => p.variable)).toEqual(['KEYSMITH_FAULT_POINTS']);
    expect(problemsOf({ ...base, KEYSMITH_FAULT_POINTS: 'a.b=explode' })).toEqual([
      { variable: 'KEYSMITH_FAULT_POINTS', message: '"a.b=explode" is not <point>=kill|throw|unavailable|pause:<ms>[@N]' },
    ]);
    expect(() => loadConfig({ ...base, KEYSMITH_FAULT_POINTS: 'a.b=throw@2' })).not.toThrow();
  });

  it('requires the master key in production', () => {
    const { KEYSMITH_MASTER_KEY: _, ...withoutKey } = base;
    expect(problemsOf({ ...withoutKey, NODE_ENV: 'production' }).map((p) => p.variable)).toEqual(['KEYSMITH_MASTER_KEY']);
  });

  it('generates a local master key file with mode 0600 once, then reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-config-'));
    const env = { KEYCLOAK_CLIENT_SECRET: 'x-secret-x', KEYSMITH_DATA_DIR: dir };
    const first = loadConfig(env);
    const file = join(dir, 'master.key');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.masterKeySource).toBe('generated-file');
    const second = loadConfig(env);
    expect(second.masterKeySource).toBe('file');
    expect(second.masterKey.equals(first.masterKey)).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.masterKey.toString('hex'));
  });

  it('refuses a data directory it cannot make, rather than retrying for ever', () => {
    // /proc answers ENOENT to mkdir although /proc exists: Node's recursive mkdir loops on it.
    const env = { KEYCLOAK_CLIENT_SECRET: 'x-secret-x', KEYSMITH_DATA_DIR: '/proc/keysmith-data' };
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('never serialises secrets', () => {
    const text = JSON.stringify(loadConfig(base));
    expect(text).not.toContain(base.KEYCLOAK_CLIENT_SECRET);
    expect(text).not.toContain(base.KEYSMITH_MASTER_KEY);
  });
});
