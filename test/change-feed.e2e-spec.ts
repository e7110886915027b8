import { adminToken } from './support/auth.js';
import { uniqueClientId } from './support/api-keys.js';
import { closeAllInstances, ensureBuilt, startInstance } from './support/instances.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { afterDelivery, ReplicaApi } from './support/replicas.js';

// Two Keysmith processes on one database: changes reach the other process through the change feed
// (the changes table), not through the 5 s cache lifetime. On SQLite the reader polls every second;
// on PostgreSQL (DATABASE_URL naming a server) a LISTEN/NOTIFY wakes it.
const signal = process.env.DATABASE_URL?.startsWith('postgres') ? 'postgres' : 'poll';

describe(`change feed between two processes on one database (${signal})`, () => {
  const realm = keycloakEnv().KEYSMITH_MANAGED_REALMS.split(',')[0];
  const clientId = uniqueClientId('feed-sqlite');
  let a: ReplicaApi;
  let b: ReplicaApi;
  let key: string;
  let keyId: string;
  let clientSecret: string;

  beforeAll(async () => {
    ensureBuilt();
    const token = await adminToken();
    const first = await startInstance({ name: 'feed-a' });
    const second = await startInstance({ name: 'feed-b', dataDir: first.dataDir });
    a = new ReplicaApi(first, token);
    b = new ReplicaApi(second, token);
    const created = await a.request('POST', `/v1/realms/${realm}/service-accounts`, {
      clientId,
      owner: 'team-feed',
      defaultScopes: ['read:data'],
      apiKeyPolicy: { defaultTtlDays: 30, maxTtlDays: 90, rateLimit: null },
    });
    expect(created.statusCode).toBe(201);
    clientSecret = created.json().clientSecret;
    const issued = await a.request('POST', `/v1/realms/${realm}/service-accounts/${clientId}/api-keys`, { name: 'feed', scopes: ['read:data'] });
    expect(issued.statusCode).toBe(201);
    ({ key, id: keyId } = issued.json());
  }, 300_000);

  afterAll(async () => {
    await a?.request('DELETE', `/v1/realms/${realm}/service-accounts/${clientId}`);
    await closeAllInstances();
  });

  it('a disabled account is refused on the other process at its first check after the feed delivers', async () => {
    expect(await b.verify(key)).toMatchObject({ valid: true });
    const [seen] = await afterDelivery(
      [b],
      async () => expect((await a.request('PATCH', `/v1/realms/${realm}/service-accounts/${clientId}`, { enabled: false })).statusCode).toBe(200),
      (replica) => replica.verify(key),
    );
    console.log(`change feed (${signal}): account disabled on feed-a, delivered on feed-b after ${seen.ms.toFixed(0)} ms`);
    expect(seen.answer).toEqual({ valid: false, code: 'CLIENT_DISABLED' });
    expect(Object.keys(seen.signals)).toEqual([signal]);
    expect((await a.request('PATCH', `/v1/realms/${realm}/service-accounts/${clientId}`, { enabled: true })).statusCode).toBe(200);
  });

  it('a revoked key is refused on the other process at its first check after the feed delivers', async () => {
    await b.verify(key);
    const [seen] = await afterDelivery(
      [b],
      async () => expect((await a.request('DELETE', `/v1/api-keys/${keyId}`)).statusCode).toBe(204),
      (replica) => replica.verify(key),
    );
    console.log(`change feed (${signal}): key revoked on feed-a, delivered on feed-b after ${seen.ms.toFixed(0)} ms`);
    expect(seen.answer).toEqual({ valid: false, code: 'REVOKED' });
  });

  it('logs neither the key nor the client secret in either process', () => {
    for (const replica of [a, b]) {
      const output = replica.instance.output();
      expect(output).toContain('Keysmith listening on');
      expect([output.includes(key), output.includes(clientSecret)]).toEqual([false, false]);
    }
  });
});
