import { Random } from '../../common/random/random.js';
import { jest } from '@jest/globals';
import { loadConfig } from '../../config/app-config.js';
import { Clock } from '../../common/time/clock.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import type { AuditService } from '../../audit/index.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import { PrefixedChecksumKeyGeneration } from '../strategies/api-key-generation.strategy.js';
import { HmacPepperHashing } from '../strategies/api-key-hashing.strategy.js';
import type { ApiKeyUsageService } from './api-key-usage.service.js';
import { ApiKeyVerificationService, GRANTS } from './api-key-verification.service.js';
import type { ServiceAccountDirectory } from '../ports/service-account-directory.port.js';
import { KeyLookup } from './key-lookup.service.js';
import type { SharedWindowCounter } from '../../common/redis/redis-window-counter.js';
import { recordOf, type KeyRows } from './key-rows.js';

const env = { KEYCLOAK_CLIENT_SECRET: 'x', KEYSMITH_MASTER_KEY: 'ab'.repeat(32) };

class FixedClock extends Clock {
  at = Date.parse('2030-01-01T00:00:00Z');
  override now(): Date {
    return new Date(this.at);
  }
}

function setUp(pepperVersion: number, rows: Map<string, Record<string, unknown>>, extra: Record<string, string> = {}, accountScopes = ['read:data']) {
  const config = loadConfig({ ...env, KEYSMITH_API_KEY_PEPPER_VERSION: String(pepperVersion), ...extra });
  const queries: string[] = [];
  const keyRows = {
    byHash: async (hash: string) => {
      queries.push(hash);
      const row = rows.get(hash);
      return row ? recordOf(row as unknown as Parameters<typeof recordOf>[0]) : null;
    },
    databaseNowMs: async () => clock.nowMs(),
    changedSince: async () => [],
  } as unknown as KeyRows;
  const viewWith = (scopes: string[]) =>
    ({ enabled: true, owner: 'team-a', apiKeyPolicy: { rateLimit: null }, defaultScopes: scopes, optionalScopes: [], effective: { enabled: true, scopes } }) as unknown as ServiceAccountView;
  let account = viewWith(accountScopes);
  // Reads of the account: counted, and held back while a test holds them.
  const accountReads = { count: 0, gate: Promise.resolve() };
  const findLive = async () => {
    accountReads.count += 1;
    await accountReads.gate;
    return account;
  };
  const directory = { findLive, get: async () => account, listAll: async () => [account] } as unknown as ServiceAccountDirectory;
  const usage = { record: jest.fn() } as unknown as ApiKeyUsageService;
  const clock = new FixedClock();
  const audit = { record: jest.fn(async () => undefined) } as unknown as AuditService;
  const metrics = new MetricsRegistry();
  const lookup = new KeyLookup(keyRows, config, clock);
  const service = new ApiKeyVerificationService(
    config,
    clock,
    lookup,
    new PrefixedChecksumKeyGeneration(config, new Random()),
    new HmacPepperHashing(config),
    directory,
    usage,
    audit,
    metrics,
    { enabled: false } as SharedWindowCounter,
  );
  /** The account as Keycloak has it from now on (the service learns of it at its next read). */
  const changeAccountScopes = (scopes: string[]) => {
    account = viewWith(scopes);
  };
  return { service, lookup, queries, usage, audit, config, clock, metrics, changeAccountScopes, accountReads };
}

const row = (id: string, scopes = '["read:data"]') => ({
  id,
  realm: 'platform',
  client_id: 'billing',
  scopes,
  expires_at: '2030-02-01 00:00:00.000',
  revoked_at: null,
});

describe('ApiKeyVerificationService', () => {
  const config = loadConfig(env);
  const key = new PrefixedChecksumKeyGeneration(config, new Random()).generate('live').key;

  it('refuses malformed keys without any lookup', async () => {
    const { service, queries } = setUp(1, new Map());
    expect(await service.check('sk_live_short')).toMatchObject({ valid: false, code: 'MALFORMED' });
    // The right prefix and length, but a bad checksum or a character outside base62: still no lookup.
    expect(await service.check(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toMatchObject({ valid: false, code: 'MALFORMED' });
    expect(await service.check(`${key.slice(0, 20)}-${key.slice(21)}`)).toMatchObject({ valid: false, code: 'MALFORMED' });
    expect(await service.check(key.replace('sk_live_', 'sk_prod_'))).toMatchObject({ valid: false, code: 'MALFORMED' });
    expect(queries).toEqual([]);
  });

  it('finds a key hashed with an older pepper version, current version first', async () => {
    const v1 = new HmacPepperHashing(config).hash(key, 1);
    const { service, queries } = setUp(2, new Map([[v1, row('key_1')]]));
    expect(await service.check(key)).toMatchObject({ valid: true, identity: { keyId: 'key_1', owner: 'team-a', scopes: ['read:data'] } });
    expect(queries).toHaveLength(2);
    expect(queries[1]).toBe(v1);
  });

  it('serves repeated checks from the cache: one query for many verifications', async () => {
    const hash = new HmacPepperHashing(config).hash(key, 1);
    const { service, queries, usage } = setUp(1, new Map([[hash, row('key_2')]]));
    for (let i = 0; i < 10; i += 1) expect((await service.check(key)).valid).toBe(true);
    expect(queries).toHaveLength(1);
    expect(usage.record).toHaveBeenCalledTimes(10);
    service.forgetKeyHash(hash);
    await service.check(key);
    expect(queries).toHaveLength(2);
  });

  it("reads a key's account once for every verification that needs it while the read runs", async () => {
    const hash = new HmacPepperHashing(config).hash(key, 1);
    const { service, lookup, queries, accountReads, clock, config: serviceConfig } = setUp(1, new Map([[hash, row('key_2')]]));
    await lookup.pollChanges(); // the index learns keys once it reads changes
    expect((await service.check(key)).valid).toBe(true);
    expect(accountReads.count).toBe(1);
    // The account's entry expires; fifty verifications of its key then arrive together.
    clock.at += serviceConfig.apiKeys.cacheTtlMs;
    let release = () => {};
    accountReads.gate = new Promise((resolve) => {
      release = resolve;
    });
    const checks = Array.from({ length: 50 }, () => service.check(key));
    await new Promise((resolve) => setImmediate(resolve));
    expect(accountReads.count).toBe(2);
    release();
    for (const result of await Promise.all(checks)) expect(result.valid).toBe(true);
    expect(accountReads.count).toBe(2);
    expect(queries).toHaveLength(1);
  });

  it('keeps identities for the GRANTS keys verified last only', async () => {
    const generation = new PrefixedChecksumKeyGeneration(config, new Random());
    const hashing = new HmacPepperHashing(config);
    const keys = Array.from({ length: GRANTS + 1 }, () => generation.generate('live').key);
    const rows = new Map(keys.map((each, i) => [hashing.hash(each, 1), row(`key_${i}`)]));
    const { service } = setUp(1, rows);
    const identityOf = async (each: string) => {
      const result = await service.check(each);
      if (!result.valid) throw new Error(`key refused: ${result.code}`);
      return result.identity;
    };
    // The first verification reads the key's row (kept in memory, the same record from then on).
    // The identity made for a key's first verification is its own, not kept; from the second on,
    // one is kept and shared.
    const once = await identityOf(keys[0]);
    expect(Object.isFrozen(once)).toBe(false);
    const first = await identityOf(keys[0]);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual(once);
    expect(await identityOf(keys[0])).toBe(first);
    for (const each of keys.slice(1)) for (let i = 0; i < 2; i += 1) await identityOf(each);
    // The newest are kept; the first key's was dropped to make room, and is made again (equal, not the same).
    const newest = await identityOf(keys[GRANTS]);
    expect(await identityOf(keys[GRANTS])).toBe(newest);
    const again = await identityOf(keys[0]);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it("refuses a key revoked by an instance whose clock is ahead of this one's", async () => {
    const hash = new HmacPepperHashing(config).hash(key, 1);
    // Revoked a minute after this instance's now, by the revoker's clock.
    const { service } = setUp(1, new Map([[hash, { ...row('key_9'), revoked_at: '2030-01-01 00:01:00.000' }]]));
    expect(await service.check(key)).toMatchObject({ valid: false, code: 'REVOKED' });
  });

  it('grants only the issued scopes the account still has', async () => {
    const hash = new HmacPepperHashing(config).hash(key, 1);
    const { service } = setUp(1, new Map([[hash, row('key_3', '["audit:read","read:data"]')]]));
    expect(await service.check(key)).toMatchObject({ valid: true, identity: { scopes: ['read:data'] } });
    expect(await service.check(key, { requiredScopes: ['audit:read'] })).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE', identity: { scopes: ['read:data'] } });
  });

  it('shares one frozen identity between verifications of a key until its account changes', async () => {
    const hash = new HmacPepperHashing(config).hash(key, 1);
    const { service, changeAccountScopes } = setUp(1, new Map([[hash, row('key_5', '["audit:read","read:data"]')]]), {}, ['audit:read', 'read:data']);
    // The first check reads the key's row; the index then holds a record of its own, whose identity
    // is kept and shared from its second verification from memory on.
    await service.check(key);
    await service.check(key);
    const first = await service.check(key);
    const second = await service.check(key);
    if (!first.valid || !second.valid) throw new Error('the key should pass');
    expect(second.identity).toBe(first.identity);
    expect(Object.isFrozen(first.identity) && Object.isFrozen(first.identity.scopes)).toBe(true);
    expect(first.identity.scopes).toEqual(['audit:read', 'read:data']);

    // The account loses a scope: once its snapshot is dropped (as a change does), the key grants less.
    changeAccountScopes(['read:data']);
    service.forgetAccount('platform', 'billing');
    const after = await service.check(key);
    if (!after.valid) throw new Error('the key should pass');
    expect(after.identity).not.toBe(first.identity);
    expect(after.identity.scopes).toEqual(['read:data']);
    expect(await service.check(key, { requiredScopes: ['audit:read'] })).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE' });
  });

  it('counts a key holding scopes its account lost at every verification, the identity shared or not', async () => {
    const hash = new HmacPepperHashing(config).hash(key, 1);
    const { service, metrics } = setUp(1, new Map([[hash, row('key_6', '["audit:read","read:data"]')]]));
    for (let i = 0; i < 3; i += 1) expect(await service.check(key)).toMatchObject({ valid: true, identity: { scopes: ['read:data'] } });
    expect(await metrics.registry.metrics()).toContain('keysmith_api_key_scope_excess_verifications_total{mode="enforce"} 3');
    expect(await metrics.registry.metrics()).toContain('keysmith_api_key_verifications_total{result="valid",cache="hit"} 2');
  });

  it('keeps the issued scopes in report mode', async () => {
    const hash = new HmacPepperHashing(config).hash(key, 1);
    const { service } = setUp(1, new Map([[hash, row('key_4', '["audit:read","read:data"]')]]), { KEYSMITH_KEY_SCOPE_ENFORCEMENT: 'report' });
    expect(await service.check(key, { requiredScopes: ['audit:read'] })).toMatchObject({ valid: true, identity: { scopes: ['audit:read', 'read:data'] } });
  });

  it('audits failures sparingly: at most 5 a minute per code and source', async () => {
    const { service, audit } = setUp(1, new Map());
    for (let i = 0; i < 50; i += 1) await service.check('garbage', { clientAddress: '10.0.0.1' });
    expect(audit.record).toHaveBeenCalledTimes(5);
    const [, event] = (audit.record as unknown as jest.Mock).mock.calls[0];
    expect(event).toMatchObject({ action: 'api_key.verified_failed', outcome: 'failure', detail: { code: 'MALFORMED', clientAddress: '10.0.0.1' } });
    expect(JSON.stringify((audit.record as unknown as jest.Mock).mock.calls)).not.toContain('garbage');
  });

  describe('failure budget per client address (forward-auth)', () => {
    const hash = () => new HmacPepperHashing(config).hash(key, 1);
    const forwardAuth = (clientAddress: string) => ({ clientAddress, limitFailuresByAddress: true });

    it('refuses only further bad keys from an address over budget; a valid key from it still passes', async () => {
      const { service, config: cfg } = setUp(1, new Map([[hash(), row('key_3')]]));
      const budget = cfg.apiKeys.authCheckMaxFailures;
      for (let i = 0; i < budget; i += 1) expect(await service.check('garbage', forwardAuth('10.0.0.1'))).toMatchObject({ code: 'MALFORMED' });
      expect(await service.check('garbage', forwardAuth('10.0.0.1'))).toEqual({ valid: false, code: 'RATE_LIMITED', retryAfterSeconds: 60 });
      expect(await service.check(key, forwardAuth('10.0.0.1'))).toMatchObject({ valid: true, identity: { keyId: 'key_3' } });
      expect(await service.check('garbage', forwardAuth('10.0.0.2'))).toMatchObject({ code: 'MALFORMED' });
    });

    it('lets the address fail again with the real reason once its window has passed', async () => {
      const { service, config: cfg, clock } = setUp(1, new Map());
      for (let i = 0; i <= cfg.apiKeys.authCheckMaxFailures; i += 1) await service.check('garbage', forwardAuth('10.0.0.1'));
      clock.at += 30_000;
      expect(await service.check('garbage', forwardAuth('10.0.0.1'))).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
      clock.at += 30_000;
      expect(await service.check('garbage', forwardAuth('10.0.0.1'))).toMatchObject({ code: 'MALFORMED' });
    });

    it("never refuses callers of Keysmith's own API by address: without the forward-auth flag nothing is counted", async () => {
      const { service } = setUp(1, new Map([[hash(), row('key_4')]]));
      for (let i = 0; i < 100; i += 1) expect(await service.check('garbage', { clientAddress: '10.0.0.1' })).toMatchObject({ code: 'MALFORMED' });
      expect(await service.check('garbage', forwardAuth('10.0.0.1'))).toMatchObject({ code: 'MALFORMED' });
      expect(await service.check(key, { clientAddress: '10.0.0.1' })).toMatchObject({ valid: true });
    });
  });
});
