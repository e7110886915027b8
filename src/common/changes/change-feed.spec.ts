import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/app-config.js';
import { loadMigrations } from '../../database/migrations.loader.js';
import type { InstanceId } from '../leases/instance-id.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { Clock } from '../time/clock.js';
import { accountChange, keyChange, type Delivery } from './change.js';
import { ChangeEntity } from './change.entity.js';
import { ChangeFeed } from './change-feed.js';

class ManualClock extends Clock {
  ms = Date.UTC(2030, 0, 1);
  override now(): Date {
    return new Date(this.ms);
  }
}

const HOUR = 60 * 60 * 1000;
const key = { id: 'key_1', keyHash: 'h'.repeat(64), realm: 'platform', clientId: 'billing' };

// Two instances ("a" and "b") of the real feed on one real database (the project's migrations on
// in-memory SQLite), each with the listeners of its own; time is a manual clock. No fake.
describe('ChangeFeed', () => {
  let db: DataSource;
  let clock: ManualClock;
  let feeds: ChangeFeed[];

  async function instance(name: string): Promise<{ feed: ChangeFeed; seen: Delivery[] }> {
    const config = { scaleOut: { changesPollMs: 60_000 } } as AppConfig;
    const feed = new ChangeFeed(db.getRepository(ChangeEntity), db, clock, { value: name } as InstanceId, { client: null } as RedisConnection, config, new MetricsRegistry());
    const seen: Delivery[] = [];
    feed.subscribe((change) => seen.push(change));
    await feed.onApplicationBootstrap();
    feeds.push(feed);
    return { feed, seen };
  }

  beforeEach(async () => {
    db = await new DataSource({ type: 'sqlite', database: ':memory:', entities: [ChangeEntity], migrations: await loadMigrations(), migrationsRun: true }).initialize();
    clock = new ManualClock();
    feeds = [];
  });
  afterEach(async () => {
    for (const feed of feeds) await feed.beforeApplicationShutdown();
    await db.destroy();
  });

  it('delivers a publication at once where it was made, and to the other instance at its next read, once each', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await a.feed.publish(accountChange('platform', 'billing'));
    expect(a.seen).toEqual([{ kind: 'account', realm: 'platform', clientId: 'billing' }]);
    expect(b.seen).toEqual([]);
    await b.feed.catchUp();
    await a.feed.catchUp();
    expect(b.seen).toEqual([{ kind: 'account', realm: 'platform', clientId: 'billing' }]);
    expect(a.seen).toHaveLength(1);
    await b.feed.catchUp();
    expect(b.seen).toHaveLength(1);
  });

  it('records the changes a piece of work reports, and delivers them only once the work is done', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const during: number[] = [];
    await a.feed.transaction(async (manager, changed) => {
      changed(keyChange(key));
      await manager.query('SELECT 1');
      during.push(a.seen.length);
    });
    expect(during).toEqual([0]);
    expect(a.seen).toEqual([{ kind: 'key', keyId: 'key_1', keyHash: key.keyHash, realm: 'platform', clientId: 'billing' }]);
    await b.feed.catchUp();
    expect(b.seen).toEqual(a.seen);
  });

  it('work that fails records and delivers nothing', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await expect(
      a.feed.transaction(async (_manager, changed) => {
        changed(keyChange(key));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await b.feed.catchUp();
    expect([a.seen, b.seen, await db.getRepository(ChangeEntity).count()]).toEqual([[], [], 0]);
  });

  it('an instance starts at the end of the feed: changes from before it started are not its business', async () => {
    const a = await instance('a');
    await a.feed.publish(accountChange('platform', 'old'));
    const b = await instance('b');
    await a.feed.publish(accountChange('platform', 'new'));
    await b.feed.catchUp();
    expect(b.seen).toEqual([{ kind: 'account', realm: 'platform', clientId: 'new' }]);
  });

  it('an instance that could not read for an hour (the rows kept) drops everything it cached, then reads on', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await a.feed.publish(accountChange('platform', 'billing'));
    clock.ms += HOUR;
    await b.feed.catchUp();
    expect(b.seen).toEqual([{ kind: 'all' }, { kind: 'account', realm: 'platform', clientId: 'billing' }]);
  });

  it('prunes rows older than an hour', async () => {
    const a = await instance('a');
    await a.feed.publish(accountChange('platform', 'old'));
    clock.ms += HOUR;
    await a.feed.publish(accountChange('platform', 'new'));
    clock.ms += 1;
    await a.feed.prune();
    expect((await db.getRepository(ChangeEntity).find()).map((row) => row.clientId)).toEqual(['new']);
  });
});
