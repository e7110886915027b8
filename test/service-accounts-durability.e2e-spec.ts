import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { systemContext } from '../src/common/context/operation-context.js';
import { setFaultPoints } from '../src/common/faults/fault-points.js';
import { JobsService } from '../src/jobs/services/jobs.service.js';
import { createServiceAccountSchema } from '../src/service-accounts/dto/service-account.schemas.js';
import { ServiceAccountsService } from '../src/service-accounts/services/service-accounts.service.js';
import { authenticateSuite } from './support/auth.js';
import { runJob } from './support/jobs.js';
import { clientCredentialsToken, keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const realm = 'platform';
const base = `/v1/realms/${realm}/service-accounts`;
const body = (clientId: string) => ({ clientId, owner: 'team-billing', realmRoles: ['orders-reader'], defaultScopes: ['read:data'] });

/** A TCP proxy to Keycloak that the test can cut (connections refused and dropped) and restore. */
async function cuttableProxy(target: URL): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  let open = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore: () => {
      open = true;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('Service accounts: leases, recovery, ETag and If-Match (real Keycloak)', () => {
  let t: TestApp;
  let kc: KcAdminClient;

  beforeAll(async () => {
    t = await createTestApp();
    await authenticateSuite(t);
    kc = await keycloakAdmin();
  }, 120_000);
  afterAll(() => t.close());
  afterEach(() => setFaultPoints(undefined));

  const create = async (app: TestApp, clientId: string) => {
    const res = await app.inject({ method: 'POST', url: base, payload: body(clientId) });
    if (res.statusCode === 201) app.secrets.add(res.json().clientSecret);
    return res;
  };

  it('declares the ETag response header in the OpenAPI document wherever an account is answered', async () => {
    const document = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
    const one = `/v1/realms/{realm}/service-accounts/{clientId}`;
    const declared = (path: string, method: string, status: string) => document.paths[path]?.[method]?.responses?.[status]?.headers?.ETag;
    for (const [path, method, status] of [
      ['/v1/realms/{realm}/service-accounts', 'post', '201'],
      [one, 'get', '200'],
      [one, 'put', '200'],
      [one, 'put', '201'],
      [one, 'patch', '200'],
    ]) {
      expect([path, method, status, declared(path, method, status)]).toEqual([path, method, status, expect.objectContaining({ schema: { type: 'string' } })]);
    }
  });

  it('gives an ETag on reads and honours If-Match on PATCH, PUT and DELETE (412 problem+json on a mismatch)', async () => {
    const clientId = uniqueClientId('etag');
    expect((await create(t, clientId)).statusCode).toBe(201);
    const read = await t.inject({ method: 'GET', url: `${base}/${clientId}` });
    const etag = read.headers.etag;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);

    const patched = await t.inject({ method: 'PATCH', url: `${base}/${clientId}`, payload: { description: 'first' }, headers: { 'if-match': etag } });
    expect(patched.statusCode).toBe(200);
    const newEtag = patched.headers.etag;
    expect(newEtag).not.toBe(etag);
    expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).headers.etag).toBe(newEtag);

    const stale = await t.inject({ method: 'PATCH', url: `${base}/${clientId}`, payload: { description: 'lost update' }, headers: { 'if-match': etag } });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toContain('application/problem+json');
    expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412 });
    const put = await t.inject({ method: 'PUT', url: `${base}/${clientId}`, payload: { owner: 'team-billing', realmRoles: [] }, headers: { 'if-match': etag } });
    expect(put.statusCode).toBe(412);
    expect((await t.inject({ method: 'DELETE', url: `${base}/${clientId}`, headers: { 'if-match': etag } })).statusCode).toBe(412);
    expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).json().description).toBe('first');

    expect((await t.inject({ method: 'DELETE', url: `${base}/${clientId}`, headers: { 'if-match': newEtag } })).statusCode).toBe(204);
    expect(await kc.clients.find({ realm, clientId })).toEqual([]);
  });

  it('serialises concurrent PATCHes without If-Match: none is lost', async () => {
    const clientId = uniqueClientId('patches');
    expect((await create(t, clientId)).statusCode).toBe(201);
    const patches = [
      { realmRoles: { add: ['orders-writer'], remove: [] } },
      { realmRoles: { add: ['reports-viewer'], remove: [] } },
      { defaultScopes: { add: ['write:data'], remove: [] } },
      { clientRoles: { add: { 'orders-api': ['read'] } } },
      { description: 'patched concurrently' },
    ];
    const results = await Promise.all(patches.map((payload) => t.inject({ method: 'PATCH', url: `${base}/${clientId}`, payload })));
    expect(results.map((res) => res.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const account = (await t.inject({ method: 'GET', url: `${base}/${clientId}` })).json();
    expect(account).toMatchObject({
      realmRoles: ['orders-reader', 'orders-writer', 'reports-viewer'],
      defaultScopes: ['read:data', 'write:data'],
      clientRoles: { 'orders-api': ['read'] },
      description: 'patched concurrently',
    });
    const [client] = await kc.clients.find({ realm, clientId });
    const user = await kc.clients.getServiceAccountUser({ realm, id: client.id! });
    const roles = (await kc.users.listRealmRoleMappings({ realm, id: user.id! })).map((role) => role.name).sort();
    expect(roles).toEqual(['orders-reader', 'orders-writer', 'reports-viewer']);
  });

  it('completes a create that a Keycloak outage interrupted, in the background job, without a restart', async () => {
    const proxy = await cuttableProxy(new URL(t.config.keycloak.url));
    const cut = await createTestApp({ dataDir: t.dataDir, env: { KEYCLOAK_URL: proxy.url, KEYCLOAK_MAX_RETRIES: '0', KEYCLOAK_TIMEOUT_MS: '1500' } });
    try {
      // This instance reaches Keycloak only through the proxy (its tokens' issuer differs, so it is driven in-process).
      const clientId = uniqueClientId('outage');
      setFaultPoints('provision.client-created=pause:1500');
      const pending = cut.app.get(ServiceAccountsService).create(systemContext('cli', 'test'), realm, createServiceAccountSchema.parse(body(clientId)));
      for (let i = 0; i < 100 && (await kc.clients.find({ realm, clientId })).length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      proxy.cut();
      await expect(pending).rejects.toMatchObject({ code: 'KEYCLOAK_UNAVAILABLE' });
      expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).statusCode).toBe(404);
      expect(await kc.clients.find({ realm, clientId })).toHaveLength(1);
      const metrics = await t.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/keysmith_service_accounts_not_final [1-9]/);

      proxy.restore();
      const run = await (await cut.app.get(JobsService).start('recovery')).done;
      expect(run).toMatchObject({ outcome: 'success' });
      expect(run.counts.recovered).toBeGreaterThanOrEqual(1);
      expect(await kc.clients.find({ realm, clientId })).toEqual([]);
      expect((await runJob(t, 'recovery')).outcome).toBe('success');
      const jobs = (await t.inject({ method: 'GET', url: '/v1/jobs' })).json();
      expect(jobs.items.map((job: { name: string }) => job.name)).toContain('recovery');
      expect((await create(t, clientId)).statusCode).toBe(201);
    } finally {
      await cut.close();
      await proxy.close();
    }
  });

  it('a second instance restarting during a stream of creates on the first never loses an acknowledged account', async () => {
    const acknowledged: { clientId: string; secret: string }[] = [];
    const stream = (async () => {
      for (let i = 0; i < 12; i += 1) {
        const clientId = uniqueClientId(`stream-${i}`);
        const res = await create(t, clientId);
        if (res.statusCode === 201) acknowledged.push({ clientId, secret: res.json().clientSecret });
      }
    })();
    for (let restart = 0; restart < 3; restart += 1) {
      const second = await createTestApp({ dataDir: t.dataDir });
      await second.app.get(ServiceAccountsService).recoverPending();
      await second.close();
    }
    await stream;
    expect(acknowledged.length).toBe(12);
    for (const { clientId, secret } of acknowledged) {
      expect(await kc.clients.find({ realm, clientId })).toHaveLength(1);
      expect((await clientCredentialsToken(realm, clientId, secret)).status).toBe(200);
    }
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('service-accounts-durability');
  });
});
