import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ApiKeyEntity } from '../src/api-keys/entities/api-key.entity.js';
import { apiHeaders, createAccount, issueKey, uniqueClientId, verify } from './support/api-keys.js';
import { runJob } from './support/jobs.js';
import { authenticateSuite } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const realm = 'platform';
const DAY = 24 * 60 * 60 * 1000;

describe('Scheduled jobs: key expiry (real Keycloak)', () => {
  let t: TestApp;
  let keys: Repository<ApiKeyEntity>;

  beforeAll(async () => {
    t = await createTestApp();
    await authenticateSuite(t);
    keys = t.app.get(getRepositoryToken(ApiKeyEntity));
  });
  afterAll(() => t.close());

  const events = async (action: string, keyId: string) => {
    const res = await t.inject({ method: 'GET', url: `/v1/audit-events?action=${action}&limit=500`, headers: apiHeaders() });
    return res.json().items.filter((e: { target: string }) => e.target === keyId);
  };

  it('warns once per threshold, never twice, then records the expiry; the key is refused', async () => {
    const clientId = uniqueClientId('expiring');
    await createAccount(t, realm, clientId);
    const issued = (await issueKey(t, realm, clientId, { name: 'short', scopes: ['read:data'], ttlDays: 10 })).json();

    const first = await runJob(t, 'key-expiry', {}, apiHeaders());
    expect(first.outcome).toBe('success');
    expect(first.details).toEqual(expect.arrayContaining([expect.objectContaining({ keyId: issued.id, action: 'warned', threshold: 14 })]));
    await runJob(t, 'key-expiry', {}, apiHeaders());
    expect(await events('api_key.expiring', issued.id)).toHaveLength(1);

    t.clock.advance(4 * DAY);
    await runJob(t, 'key-expiry', {}, apiHeaders());
    t.clock.advance(5.5 * DAY);
    await runJob(t, 'key-expiry', {}, apiHeaders());
    await runJob(t, 'key-expiry', {}, apiHeaders());
    const warnings = await events('api_key.expiring', issued.id);
    expect(warnings.map((e: { detail: { thresholdDays: number } }) => e.detail.thresholdDays).sort((a: number, b: number) => a - b)).toEqual([1, 7, 14]);

    t.clock.advance(1 * DAY);
    expect((await verify(t, issued.key)).code).toBe('EXPIRED');
    const run = await runJob(t, 'key-expiry', {}, apiHeaders());
    expect(run.details).toEqual(expect.arrayContaining([expect.objectContaining({ keyId: issued.id, action: 'expired' })]));
    expect(await events('api_key.expired', issued.id)).toHaveLength(1);
    expect((await keys.findOneByOrFail({ id: issued.id })).expiredAt).not.toBeNull();
    const view = await t.inject({ method: 'GET', url: `/v1/api-keys/${issued.id}`, headers: apiHeaders() });
    expect(view.json().status).toBe('expired');
  });

  it('moving the clock 91 days expires every key, and they are refused', async () => {
    const clientId = uniqueClientId('ninety');
    await createAccount(t, realm, clientId);
    const issued = (await issueKey(t, realm, clientId, { name: 'default-ttl', scopes: ['read:data'] })).json();
    expect((await verify(t, issued.key)).valid).toBe(true);
    t.clock.advanceDays(91);
    expect((await verify(t, issued.key)).code).toBe('EXPIRED');
    const run = await runJob(t, 'key-expiry', {}, apiHeaders());
    expect(run.details).toEqual(expect.arrayContaining([expect.objectContaining({ keyId: issued.id, action: 'expired' })]));
  });

  it('clamps a key imported without expiry, and keys beyond a lowered maximum, to createdAt + maxTtlDays (audited)', async () => {
    const clientId = uniqueClientId('clamped');
    await createAccount(t, realm, clientId);
    const imported = (await issueKey(t, realm, clientId, { name: 'imported', scopes: ['read:data'] })).json();
    const longLived = (await issueKey(t, realm, clientId, { name: 'long', scopes: ['read:data'], ttlDays: 90 })).json();
    // An import from an older system: no expiry, stored as the far-future sentinel.
    await keys.update(imported.id, { expiresAt: new Date('9999-12-31T23:59:59.000Z') });
    const patched = await t.inject({
      method: 'PATCH',
      url: `/v1/realms/${realm}/service-accounts/${clientId}`,
      headers: apiHeaders(),
      payload: { apiKeyPolicy: { defaultTtlDays: 30, maxTtlDays: 30 } },
    });
    expect(patched.statusCode).toBe(200);

    const dry = await runJob(t, 'key-expiry', { dryRun: true }, apiHeaders());
    expect(dry.details).toEqual(expect.arrayContaining([expect.objectContaining({ keyId: imported.id, action: 'clamped' })]));
    expect((await keys.findOneByOrFail({ id: imported.id })).expiresAt.getUTCFullYear()).toBe(9999);

    const run = await runJob(t, 'key-expiry', {}, apiHeaders());
    expect(run.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ keyId: imported.id, action: 'clamped' }),
        expect.objectContaining({ keyId: longLived.id, action: 'clamped' }),
      ]),
    );
    for (const id of [imported.id, longLived.id]) {
      const row = await keys.findOneByOrFail({ id });
      expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(30 * DAY);
      const clamped = await events('api_key.expiry_clamped', id);
      expect(clamped).toHaveLength(1);
      expect(clamped[0].detail).toMatchObject({ maxTtlDays: 30 });
    }
    t.clock.advanceDays(31);
    expect((await verify(t, imported.key)).code).toBe('EXPIRED');
  });

  it('exposes the count of keys expiring within 14 days', async () => {
    const clientId = uniqueClientId('gauge');
    await createAccount(t, realm, clientId);
    await issueKey(t, realm, clientId, { name: 'soon', scopes: ['read:data'], ttlDays: 3 });
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(Number(/keysmith_api_keys_expiring_within_14_days (\d+)/.exec(res.body)![1])).toBeGreaterThanOrEqual(1);
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('jobs-key-expiry');
  });
});
