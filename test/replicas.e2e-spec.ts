import { jest } from '@jest/globals';
import { adminToken } from './support/auth.js';
import { uniqueClientId } from './support/api-keys.js';
import { closeAllInstances, ensureBuilt, prepareDataDir, startInstance, type KeysmithInstance } from './support/instances.js';
import { keycloakAdmin } from './support/keycloak-admin.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { poll } from './support/poll.js';
import { TestRedis } from './support/redis.js';
import { ReplicaDatabase } from './support/replica-database.js';
import { afterDelivery, ReplicaApi } from './support/replicas.js';

const realm = keycloakEnv().KEYSMITH_MANAGED_REALMS.split(',')[0];
const prefix = uniqueClientId('replicas');
jest.setTimeout(120_000);

// Three Keysmith processes on one PostgreSQL database and one Redis, as behind a load balancer.
// Propagation times are measured and printed, never asserted: what is asserted is what a caller
// sees at the first check after a replica's change feed delivered the change.
describe('three replicas on PostgreSQL + Redis', () => {
  let redis: TestRedis;
  let database: ReplicaDatabase;
  let replicas: ReplicaApi[];
  const accounts: string[] = [];

  const api = (i: number) => replicas[i];
  async function createAccount(on: ReplicaApi, clientId: string, rateLimit: { requests: number; perSeconds: number } | null = null) {
    const res = await on.request('POST', `/v1/realms/${realm}/service-accounts`, {
      clientId,
      owner: 'team-replicas',
      defaultScopes: ['read:data'],
      apiKeyPolicy: { defaultTtlDays: 30, maxTtlDays: 90, rateLimit },
    });
    if (res.statusCode === 201) accounts.push(clientId);
    return res;
  }
  async function issueKey(on: ReplicaApi, clientId: string): Promise<{ key: string; id: string }> {
    const res = await on.request('POST', `/v1/realms/${realm}/service-accounts/${clientId}/api-keys`, { name: 'replicas', scopes: ['read:data'] });
    expect(res.statusCode).toBe(201);
    return res.json();
  }

  beforeAll(async () => {
    ensureBuilt();
    redis = TestRedis.start();
    database = await ReplicaDatabase.create();
    const dataDir = prepareDataDir();
    const env = {
      DATABASE_URL: database.url,
      KEYSMITH_REDIS_URL: redis.url,
      // Generous for a loaded test machine: a slow answer would count as Redis failing (fallback), and
      // the limit test checks shared counting. Redis down is still seen at once (commands never queue).
      KEYSMITH_REDIS_TIMEOUT_MS: '2000',
      KEYSMITH_JOB_LEASE_SECONDS: '5',
      KEYSMITH_SECRET_HEALTH_RATE: '2',
      KEYSMITH_SECRET_HEALTH_SPREAD_MINUTES: '0',
    };
    // The first one runs the migrations; the others start together.
    const first = await startInstance({ name: 'replica-1', dataDir, env });
    const others = await Promise.all([2, 3].map((n) => startInstance({ name: `replica-${n}`, dataDir, env })));
    const token = await adminToken();
    replicas = [first, ...others].map((instance: KeysmithInstance) => new ReplicaApi(instance, token));
  }, 300_000);

  afterAll(async () => {
    const alive = replicas?.find((replica) => replica.instance.running);
    for (const clientId of accounts) await alive?.request('DELETE', `/v1/realms/${realm}/service-accounts/${clientId}`);
    await closeAllInstances();
    await database?.close();
    redis?.close();
  }, 120_000);

  it('a key revoked on replica 1 is refused on replicas 2 and 3 at their first check after the feed delivers', async () => {
    const clientId = `${prefix}-revoke`;
    expect((await createAccount(api(0), clientId)).statusCode).toBe(201);
    const { key, id } = await issueKey(api(0), clientId);
    // Replicas 2 and 3 have the key cached as valid.
    expect([await api(1).verify(key), await api(2).verify(key)].map((a) => a.valid)).toEqual([true, true]);
    const seen = await afterDelivery(
      [api(1), api(2)],
      async () => expect((await api(0).request('DELETE', `/v1/api-keys/${id}`)).statusCode).toBe(204),
      (replica) => replica.verify(key),
    );
    for (const s of seen) console.log(`replicas: key revoked on replica-1, delivered on ${s.replica} after ${s.ms.toFixed(1)} ms (signal ${Object.keys(s.signals).join(', ')})`);
    expect(seen.map((s) => s.answer)).toEqual([
      { valid: false, code: 'REVOKED' },
      { valid: false, code: 'REVOKED' },
    ]);
  });

  it('a per-key limit of 10 a second holds across the three replicas', async () => {
    const clientId = `${prefix}-limit`;
    expect((await createAccount(api(0), clientId, { requests: 10, perSeconds: 1 })).statusCode).toBe(201);
    const { key } = await issueKey(api(0), clientId);
    // Warm each replica's cache so the burst measures the limit, not the first lookups.
    await poll(() => Promise.all(replicas.map((replica) => replica.request('GET', '/healthz'))), () => true);
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 45 }, (_, i) => api(i % 3).verify(key)));
    const elapsed = performance.now() - started;
    const allowed = answers.filter((a) => a.valid).length;
    // Every check was counted in Redis: no replica fell back to counting alone.
    const fallbacks = await Promise.all(replicas.map((replica) => replica.metric('keysmith_limit_fallbacks_total')));
    expect(fallbacks).toEqual([0, 0, 0]);
    // A fixed window starts at its first request: a burst lasting `elapsed` spans at most this many.
    const windows = Math.floor(elapsed / 1000) + 1;
    console.log(`replicas: 45 verifications over 3 replicas in ${elapsed.toFixed(0)} ms: ${allowed} allowed (limit 10/s, ${windows} window(s))`);
    expect(answers.every((a) => a.valid || a.code === 'RATE_LIMITED')).toBe(true);
    expect(allowed).toBeGreaterThanOrEqual(10);
    expect(allowed).toBeLessThanOrEqual(10 * windows);
  });

  it('concurrent creates spread over the replicas: no duplicate, no lost account', async () => {
    const contested = [1, 2, 3, 4].map((n) => `${prefix}-c${n}`);
    const distinct = [1, 2, 3, 4, 5, 6].map((n) => `${prefix}-d${n}`);
    const attempts = [...contested.flatMap((clientId) => [0, 1, 2].map((i) => ({ clientId, i }))), ...distinct.map((clientId, n) => ({ clientId, i: n % 3 }))];
    const results = await Promise.all(attempts.map(async ({ clientId, i }) => ({ clientId, status: (await createAccount(api(i), clientId)).statusCode })));
    for (const clientId of contested) {
      const statuses = results.filter((r) => r.clientId === clientId).map((r) => r.status).sort();
      expect([clientId, statuses]).toEqual([clientId, [201, 409, 409]]);
    }
    expect(results.filter((r) => distinct.includes(r.clientId)).map((r) => r.status)).toEqual(distinct.map(() => 201));
    // Each replica lists every account once; Keycloak holds one client each.
    for (const replica of replicas) {
      const listed = await replica.request('GET', `/v1/realms/${realm}/service-accounts?clientId=${prefix}-&limit=500`);
      const ids = (listed.json().items as { clientId: string }[]).map((item) => item.clientId).filter((id) => contested.includes(id) || distinct.includes(id));
      expect(ids.sort()).toEqual([...contested, ...distinct].sort());
    }
    const kc = await keycloakAdmin();
    for (const clientId of [...contested, ...distinct]) {
      expect([clientId, (await kc.clients.find({ realm, clientId })).length]).toEqual([clientId, 1]);
    }
  });

  it('kill the replica running a job: another takes the lease over and finishes the job', async () => {
    const victim = api(2);
    const started = await victim.request('POST', '/v1/jobs/secret-health/run', {});
    expect(started.statusCode).toBe(202);
    const abandonedRunId = started.json().runId as string;
    await poll(() => victim.request('GET', '/v1/jobs/secret-health/runs'), (res) => res.json().items.some((run: { id: string }) => run.id === abandonedRunId));
    await victim.instance.kill();
    // While the dead replica's lease lasts, the job is reported running; then replica 1 takes over.
    const takeover = await poll(() => api(0).request('POST', '/v1/jobs/secret-health/run', {}), (res) => res.statusCode === 202, 30_000);
    expect(takeover.statusCode).toBe(202);
    const runId = takeover.json().runId as string;
    const runs = await poll(
      () => api(1).request('GET', '/v1/jobs/secret-health/runs'),
      (res) => res.json().items.some((run: { id: string; outcome: string }) => run.id === runId && run.outcome !== 'running'),
      120_000,
    );
    const byId = new Map((runs.json().items as { id: string; outcome: string; counts: Record<string, number> }[]).map((run) => [run.id, run]));
    expect(byId.get(abandonedRunId)?.outcome).toBe('abandoned');
    expect(byId.get(runId)?.outcome).toBe('success');
    expect(byId.get(runId)?.counts.ok).toBeGreaterThanOrEqual(accounts.length);
  });

  it('Redis down: valid keys verify on, revocations still reach every replica (by the poll), failing keys are answered 429', async () => {
    const clientId = `${prefix}-down`;
    expect((await createAccount(api(0), clientId, { requests: 100, perSeconds: 1 })).statusCode).toBe(201);
    const { key, id } = await issueKey(api(0), clientId);
    redis.stop();
    try {
      // Per-key limit, fallback open: each replica counts alone and the key goes on verifying.
      expect((await Promise.all([0, 1].map((i) => api(i).verify(key)))).map((a) => a.valid)).toEqual([true, true]);
      // Failure limit, fallback closed: a failing key is refused 429, a valid one passes.
      const bad = `${key.slice(0, -6)}AAAAAA`;
      const check = (k: string) => fetch(`${api(0).instance.url}/v1/auth/check`, { headers: { 'x-api-key': k } });
      expect((await check(bad)).status).toBe(429);
      expect((await check(key)).status).toBe(200);
      const seen = await afterDelivery(
        [api(1)],
        async () => expect((await api(0).request('DELETE', `/v1/api-keys/${id}`)).statusCode).toBe(204),
        (replica) => replica.verify(key),
      );
      console.log(`replicas: Redis down, key revoked on replica-1, delivered on replica-2 after ${seen[0].ms.toFixed(0)} ms (signal ${Object.keys(seen[0].signals).join(', ')})`);
      expect(seen[0].answer).toEqual({ valid: false, code: 'REVOKED' });
    } finally {
      redis.start();
    }
  });
});
