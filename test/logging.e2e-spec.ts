import { Random } from '../src/common/random/random.js';
import { adminToken, authenticateSuite } from './support/auth.js';
import { createAccount, deleteAccount, issueKey, uniqueClientId } from './support/api-keys.js';
import { httpRequest } from './support/http.js';
import { allLogLines, expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const REALM = 'platform';

/** Decides each sampling draw (below the rate is logged); key material stays random. */
class FixedRandomness extends Random {
  value = 0.5;
  override fraction(): number {
    return this.value;
  }
}

type Line = Record<string, unknown>;

describe('Access logs with the default settings (LOG_LEVEL=info, sample rate 0.01)', () => {
  let t: TestApp;
  const random = new FixedRandomness();
  let account: string;
  let key: { id: string; key: string };
  let bearer: string;

  const accessLines = (): Line[] => t.logs.records().filter((line) => line.context === 'AccessLog');
  const lineFor = (requestId: string) => accessLines().filter((line) => line.requestId === requestId);
  const verify = (candidate: string) => t.inject({ method: 'POST', url: '/v1/api-keys/verify', payload: { key: candidate } });

  beforeAll(async () => {
    t = await createTestApp({ env: { LOG_LEVEL: 'info' }, randomness: random });
    await authenticateSuite(t);
    account = uniqueClientId('logging');
    await createAccount(t, REALM, account, { defaultScopes: ['read:data'] });
    key = (await issueKey(t, REALM, account, { name: 'logged', scopes: ['read:data'] })).json();
    bearer = `Bearer ${await adminToken()}`;
  });
  afterAll(async () => {
    await deleteAccount(t, REALM, account);
    await t.close();
  });

  it('writes one structured line per request: method, route pattern, status, duration, request id, actor', async () => {
    const res = await t.inject({ method: 'GET', url: `/v1/api-keys/${key.id}?probe=1` });
    expect(res.statusCode).toBe(200);
    const lines = lineFor(res.headers['x-request-id']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      service: 'keysmith',
      method: 'GET',
      route: '/v1/api-keys/:id',
      status: 200,
      actor: { type: 'jwt', id: 'keysmith-tester' },
      msg: 'GET /v1/api-keys/:id 200',
    });
    expect(typeof lines[0].durationMs).toBe('number');
    // Neither the id in the path nor the query string is logged.
    expect(JSON.stringify(lines[0])).not.toContain(key.id);
    expect(JSON.stringify(lines[0])).not.toContain('probe');
  });

  it('logs errors with their problem code, and unmatched paths without the path', async () => {
    const missing = await t.inject({ method: 'GET', url: '/v1/api-keys/key_0000000000000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(lineFor(missing.headers['x-request-id'])).toEqual([expect.objectContaining({ status: 404, code: 'API_KEY_NOT_FOUND', route: '/v1/api-keys/:id' })]);

    const nowhere = await t.inject({ method: 'GET', url: `/v1/nowhere/${key.key}` });
    expect(nowhere.statusCode).toBe(404);
    expect(lineFor(nowhere.headers['x-request-id'])).toEqual([expect.objectContaining({ status: 404, route: 'unmatched', actor: { type: 'anonymous', id: null } })]);

    const anonymous = await httpRequest(t.baseUrl, { method: 'GET', url: '/v1/jobs' });
    expect(lineFor(anonymous.headers['x-request-id'])).toEqual([expect.objectContaining({ status: 401, code: 'AUTHENTICATION_REQUIRED' })]);
  });

  it('samples successful verifications with the injected randomness and always logs failed ones', async () => {
    random.value = 0.5;
    const skipped = await verify(key.key);
    expect(skipped.json()).toMatchObject({ valid: true });
    expect(lineFor(skipped.headers['x-request-id'])).toEqual([]);
    const check = await httpRequest(t.baseUrl, { method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': key.key } });
    expect(check.statusCode).toBeLessThan(300);
    expect(lineFor(check.headers['x-request-id'])).toEqual([]);

    random.value = 0.005;
    const sampled = await verify(key.key);
    expect(lineFor(sampled.headers['x-request-id'])).toEqual([expect.objectContaining({ route: '/v1/api-keys/verify', status: 200 })]);

    random.value = 0.5;
    const unknown = await verify(`${key.key.slice(0, -6)}AAAAAA`);
    expect(unknown.json()).toMatchObject({ valid: false });
    expect(lineFor(unknown.headers['x-request-id'])).toEqual([expect.objectContaining({ route: '/v1/api-keys/verify', status: 200, verdict: unknown.json().code })]);
    const refused = await httpRequest(t.baseUrl, { method: 'GET', url: '/v1/auth/check' });
    expect(refused.statusCode).toBe(401);
    expect(lineFor(refused.headers['x-request-id'])).toEqual([expect.objectContaining({ status: 401, code: 'AUTHENTICATION_REQUIRED' })]);
  });

  it('never writes a credential into an access line', () => {
    const text = JSON.stringify(accessLines());
    expect(accessLines().length).toBeGreaterThan(5);
    expect(text).not.toContain(key.key);
    expect(text).not.toMatch(/authorization|x-api-key|Bearer /i);
  });

  it('KEYSMITH_LOG_VERIFY_SAMPLE_RATE=1 logs every successful verification, 0 none; the retired KEYSMITH_LOG_VERIFY_REQUESTS=true means 1, with a warning', async () => {
    for (const [env, logged] of [
      [{ KEYSMITH_LOG_VERIFY_SAMPLE_RATE: '1' }, true],
      [{ KEYSMITH_LOG_VERIFY_SAMPLE_RATE: '0' }, false],
      [{ KEYSMITH_LOG_VERIFY_REQUESTS: 'true' }, true],
    ] as const) {
      // A second instance on the same database, so the suite's key is valid there too.
      const other = await createTestApp({ env: { LOG_LEVEL: 'info', ...env }, dataDir: t.dataDir });
      try {
        // Through the app's own instance (inject) and through the hot door (a real request).
        const ok = await other.inject({ method: 'POST', url: '/v1/api-keys/verify', payload: { key: key.key }, headers: { authorization: bearer } });
        expect(ok.json()).toMatchObject({ valid: true });
        const passed = await httpRequest(other.baseUrl, { method: 'GET', url: '/v1/auth/check/orders', headers: { 'x-api-key': key.key } });
        expect(passed.statusCode).toBe(200);
        const failed = await httpRequest(other.baseUrl, { method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': 'sk_live_short' } });
        expect(failed.statusCode).toBe(401);
        const lines = other.logs.records().filter((line) => line.context === 'AccessLog');
        expect(lines.filter((line) => line.requestId === ok.headers['x-request-id'])).toHaveLength(logged ? 1 : 0);
        expect(lines.filter((line) => line.requestId === passed.headers['x-request-id'])).toHaveLength(logged ? 1 : 0);
        expect(lines.filter((line) => line.requestId === failed.headers['x-request-id'])).toHaveLength(1);
        expect(allLogLines().some((line) => line.includes('KEYSMITH_LOG_VERIFY_REQUESTS is retired'))).toBe('KEYSMITH_LOG_VERIFY_REQUESTS' in env);
      } finally {
        await other.close();
      }
    }
  });

  it('logs none of the secrets, keys and tokens this suite saw', () => {
    expectNoSecretInLogs('logging');
  });
});
