import { DataSource, type Repository } from 'typeorm';
import type { AuditRecord, AuditService } from '../../audit/index.js';
import { systemContext } from '../../common/context/operation-context.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { Clock } from '../../common/time/clock.js';
import type { AppConfig } from '../../config/app-config.js';
import { loadMigrations } from '../../database/migrations.loader.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import type { WebhooksService } from '../../webhooks/index.js';
import { ApiKeyEntity } from '../entities/api-key.entity.js';
import type { ServiceAccountDirectory } from '../ports/service-account-directory.port.js';
import { ChangeEntity } from '../../common/changes/change.entity.js';
import { ChangeFeed } from '../../common/changes/change-feed.js';
import type { InstanceId } from '../../common/leases/instance-id.js';
import type { RedisConnection } from '../../common/redis/redis-connection.js';
import { KeyExpiryService } from './key-expiry.service.js';

const DAY = 24 * 60 * 60 * 1000;
const REALM = 'platform';

/** A clock the test sets. */
class ManualClock extends Clock {
  ms = Date.UTC(2030, 0, 1);
  override now(): Date {
    return new Date(this.ms);
  }
}

// The sweep's selection is SQL (index-backed ranges, julianday arithmetic), so it runs on the real
// schema (the project's migrations on an in-memory SQLite database). Everything around it is a
// fake: the account directory, audit and webhooks; the change feed is the real one (what it delivers
// here is what the verification cache drops); time is a manual clock.
describe('KeyExpiryService (key expiry state machine: clamp, expire, warn once per threshold)', () => {
  let db: DataSource;
  let keys: Repository<ApiKeyEntity>;
  let clock: ManualClock;
  let maxTtlDays: Record<string, number | undefined>;
  let audits: AuditRecord[];
  let webhooks: { type: string; data: Record<string, unknown> }[];
  let forgotten: string[];
  let service: KeyExpiryService;
  /** A second KeyExpiryService on the same database and fakes, with its own reads of the keys (see `overlapping`). */
  let sweeperWith: (keys: Repository<ApiKeyEntity>, directory: ServiceAccountDirectory) => KeyExpiryService;
  let directory: ServiceAccountDirectory;
  let sequence = 0;
  const context = systemContext('job', 'key-expiry');

  beforeAll(async () => {
    db = await new DataSource({ type: 'sqlite', database: ':memory:', entities: [ApiKeyEntity, ChangeEntity], migrations: await loadMigrations(), migrationsRun: true }).initialize();
    keys = db.getRepository(ApiKeyEntity);
  });
  afterAll(() => db.destroy());

  beforeEach(async () => {
    await keys.clear();
    clock = new ManualClock();
    maxTtlDays = {};
    audits = [];
    webhooks = [];
    forgotten = [];
    directory = {
      findLive: async (realm: string, clientId: string) =>
        clientId in maxTtlDays ? ({ realm, clientId, apiKeyPolicy: { maxTtlDays: maxTtlDays[clientId] } } as unknown as ServiceAccountView) : null,
    } as unknown as ServiceAccountDirectory;
    const audit = { record: async (_context: unknown, record: AuditRecord) => void audits.push(record) } as unknown as AuditService;
    const publisher = { publish: async (type: string, data: Record<string, unknown>) => void webhooks.push({ type, data }) } as unknown as WebhooksService;
    const config = { jobs: { expiryWarningDays: [14, 7, 1] }, scaleOut: { changesPollMs: 1_000 } } as unknown as AppConfig;
    const instance = { value: 'test' } as InstanceId;
    const changes = new ChangeFeed(db.getRepository(ChangeEntity), db, clock, instance, { client: null } as RedisConnection, config, new MetricsRegistry());
    changes.subscribe((change) => {
      if (change.kind === 'key') forgotten.push(change.keyHash);
    });
    service = new KeyExpiryService(keys, directory, changes, audit, publisher, clock, config, new MetricsRegistry());
    sweeperWith = (reads, accounts) => new KeyExpiryService(reads, accounts, changes, audit, publisher, clock, config, new MetricsRegistry());
  });

  /** A live key created `ageDays` ago that expires `ttlDays` after its creation. */
  async function key(clientId: string, ageDays: number, ttlDays: number, extra: Partial<ApiKeyEntity> = {}): Promise<ApiKeyEntity> {
    sequence += 1;
    const createdAt = new Date(clock.ms - ageDays * DAY);
    return keys.save(
      keys.create({
        id: `key_${String(sequence).padStart(6, '0')}`,
        realm: REALM,
        clientId,
        name: `key ${sequence}`,
        environment: 'live',
        hint: `ks_live_${sequence}`,
        keyHash: `hash-${sequence}`,
        pepperVersion: 1,
        scopes: [],
        ttlDays,
        createdAt,
        expiresAt: new Date(createdAt.getTime() + ttlDays * DAY),
        ...extra,
      }),
    );
  }
  const sweep = (dryRun = false) => service.sweep(context, dryRun);
  const reload = (id: string) => keys.findOneByOrFail({ id });

  describe('clamp', () => {
    it("ends a key living longer than its account's maxTtlDays at createdAt + maxTtlDays", async () => {
      maxTtlDays.orders = 30;
      const long = await key('orders', 1, 60);
      const items = await sweep();
      const limit = new Date(long.createdAt.getTime() + 30 * DAY);
      expect(items).toEqual([{ keyId: long.id, realm: REALM, clientId: 'orders', action: 'clamped', from: long.expiresAt.toISOString(), to: limit.toISOString() }]);
      expect((await reload(long.id)).expiresAt).toEqual(limit);
      expect(forgotten).toEqual([long.keyHash]);
      expect(audits).toEqual([expect.objectContaining({ action: 'api_key.expiry_clamped', target: long.id, detail: { from: long.expiresAt.toISOString(), to: limit.toISOString(), maxTtlDays: 30 } })]);
    });

    it('caps every key at 90 days, even when the account allows more or is gone', async () => {
      maxTtlDays.generous = 365;
      const allowed = await key('generous', 0, 120);
      const orphan = await key('deleted-account', 0, 100);
      const items = await sweep();
      // One query per account, in no set order.
      expect(items.map((item) => [item.keyId, item.action, item.to]).sort()).toEqual([
        [allowed.id, 'clamped', new Date(allowed.createdAt.getTime() + 90 * DAY).toISOString()],
        [orphan.id, 'clamped', new Date(orphan.createdAt.getTime() + 90 * DAY).toISOString()],
      ]);
    });

    it('leaves keys within the limit, revoked keys and expired keys alone', async () => {
      maxTtlDays.orders = 30;
      await key('orders', 1, 30);
      await key('orders', 1, 60, { revokedAt: new Date(clock.ms) });
      await key('orders', 100, 60, { expiredAt: new Date(clock.ms) });
      expect(await sweep()).toEqual([]);
      expect(audits).toEqual([]);
    });
  });

  describe('expire', () => {
    it('records a key whose expiry passed as expired, once, with an audit event and a webhook', async () => {
      const old = await key('orders', 31, 30);
      const items = await sweep();
      expect(items).toEqual([{ keyId: old.id, realm: REALM, clientId: 'orders', action: 'expired' }]);
      expect((await reload(old.id)).expiredAt).toEqual(new Date(clock.ms));
      expect(forgotten).toEqual([old.keyHash]);
      expect(audits.map((record) => record.action)).toEqual(['api_key.expired']);
      expect(webhooks).toEqual([{ type: 'api_key.expired', data: expect.objectContaining({ keyId: old.id, expiresAt: old.expiresAt.toISOString() }) }]);

      clock.ms += DAY;
      expect(await sweep()).toEqual([]);
      expect(webhooks).toHaveLength(1);
    });

    it('expires a key at its expiry instant, not before', async () => {
      const due = await key('orders', 30, 30);
      clock.ms -= 1;
      expect(await sweep()).toEqual([expect.objectContaining({ keyId: due.id, action: 'warned' })]);
      clock.ms += 1;
      expect(await sweep()).toEqual([{ keyId: due.id, realm: REALM, clientId: 'orders', action: 'expired' }]);
    });
  });

  describe('warn', () => {
    it('warns once when a threshold is crossed, and not again at the next sweep', async () => {
      const soon = await key('orders', 17, 30);
      expect(await sweep()).toEqual([{ keyId: soon.id, realm: REALM, clientId: 'orders', action: 'warned', threshold: 14 }]);
      expect((await reload(soon.id)).expiryWarnings).toEqual([14]);
      expect(await sweep()).toEqual([]);
      expect(webhooks).toEqual([{ type: 'api_key.expiring', data: expect.objectContaining({ keyId: soon.id, thresholdDays: 14 }) }]);
      expect(audits).toEqual([expect.objectContaining({ action: 'api_key.expiring', detail: { thresholdDays: 14, expiresAt: soon.expiresAt.toISOString() } })]);
    });

    it('warns again at each nearer threshold as time passes', async () => {
      const soon = await key('orders', 17, 30);
      await sweep();
      clock.ms += 7 * DAY;
      expect(await sweep()).toEqual([expect.objectContaining({ keyId: soon.id, threshold: 7 })]);
      clock.ms += 5 * DAY;
      expect(await sweep()).toEqual([expect.objectContaining({ keyId: soon.id, threshold: 1 })]);
      expect((await reload(soon.id)).expiryWarnings).toEqual([14, 7, 1]);
      expect(webhooks.map((hook) => hook.data.thresholdDays)).toEqual([14, 7, 1]);
    });

    it('names only the nearest threshold when several are crossed at once, and marks them all', async () => {
      const late = await key('orders', 29.5, 30);
      expect(await sweep()).toEqual([expect.objectContaining({ keyId: late.id, action: 'warned', threshold: 1 })]);
      expect((await reload(late.id)).expiryWarnings).toEqual([14, 7, 1]);
      expect(webhooks).toHaveLength(1);
      clock.ms += 0.25 * DAY;
      expect(await sweep()).toEqual([]);
    });

    it('does not warn keys beyond the furthest threshold, nor revoked keys', async () => {
      await key('orders', 0, 30);
      await key('orders', 29, 30, { revokedAt: new Date(clock.ms) });
      expect(await sweep()).toEqual([]);
    });
  });

  it('two sweeps that read the same keys before either writes (a run that lost its lease, and the one that took over) record each clamp, expiry and warning once', async () => {
    maxTtlDays.orders = 30;
    const long = await key('orders', 10, 60);
    const old = await key('other', 31, 30);
    const soon = await key('other', 17, 30);
    // Each sweep's reads (the account's policy before its keys, each batch of keys) wait for the
    // other sweep's same read, so both have read everything a step concerns before either writes.
    let waiting: (() => void) | null = null;
    let paired = 0;
    const meet = () =>
      new Promise<void>((resolve) => {
        if (!waiting) return void (waiting = resolve);
        paired += 1;
        waiting();
        waiting = null;
        resolve();
      });
    const sweeper = () => {
      const reads = Object.create(keys) as Repository<ApiKeyEntity>;
      reads.find = async (...args: Parameters<Repository<ApiKeyEntity>['find']>) => {
        const rows = await keys.find(...args);
        await meet();
        return rows;
      };
      const accounts = { findLive: async (realm: string, clientId: string) => (await meet(), directory.findLive(realm, clientId)) } as ServiceAccountDirectory;
      return sweeperWith(reads, accounts);
    };
    const [first, second] = await Promise.all([sweeper().sweep(context, false), sweeper().sweep(context, false)]);
    // Both read the two accounts' policies and the two batches (expire, warn) before writing.
    expect(paired).toBe(4);
    expect([...first, ...second].map((item) => [item.keyId, item.action]).sort()).toEqual(
      [
        [long.id, 'clamped'],
        [old.id, 'expired'],
        [soon.id, 'warned'],
      ].sort(),
    );
    expect(audits.map((record) => [record.target, record.action]).sort()).toEqual(
      [
        [long.id, 'api_key.expiry_clamped'],
        [old.id, 'api_key.expired'],
        [soon.id, 'api_key.expiring'],
      ].sort(),
    );
    expect(webhooks.map((hook) => hook.type).sort()).toEqual(['api_key.expired', 'api_key.expiring']);
    expect(forgotten.sort()).toEqual([long.keyHash, old.keyHash].sort());
    expect(await reload(long.id)).toMatchObject({ expiresAt: new Date(long.createdAt.getTime() + 30 * DAY) });
    expect((await reload(soon.id)).expiryWarnings).toEqual([14]);
  });

  it('changes nothing in a dry run, but reports what it would do', async () => {
    maxTtlDays.orders = 30;
    const long = await key('orders', 1, 60);
    const old = await key('other', 40, 30);
    const soon = await key('other', 20, 30);
    const items = await sweep(true);
    expect(items.map((item) => [item.keyId, item.action])).toEqual([
      [long.id, 'clamped'],
      [old.id, 'expired'],
      [soon.id, 'warned'],
    ]);
    expect(await reload(long.id)).toMatchObject({ expiresAt: long.expiresAt, expiredAt: null, expiryWarnings: [] });
    expect((await reload(old.id)).expiredAt).toBeNull();
    expect((await reload(soon.id)).expiryWarnings).toEqual([]);
    expect([audits, webhooks, forgotten]).toEqual([[], [], []]);
  });
});
