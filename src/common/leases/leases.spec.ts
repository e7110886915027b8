import { jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import { loadMigrations } from '../../database/migrations.loader.js';
import { DomainError } from '../errors/domain-error.js';
import { ErrorCode } from '../errors/error-code.js';
import { Clock } from '../time/clock.js';
import type { InstanceId } from './instance-id.js';
import { LeaseStore } from './lease.store.js';
import { LeaseLostError, Leases, type LeaseOptions } from './leases.js';

class ManualClock extends Clock {
  constructor(public ms = Date.UTC(2030, 0, 1)) {
    super();
  }
  override now(): Date {
    return new Date(this.ms);
  }
}

/** A host whose system clock is off by `aheadMs`: it moves no test time, so leases go by the database's clock. */
class SkewedSystemClock extends Clock {
  constructor(private readonly aheadMs: number) {
    super();
  }
  override nowMs(): number {
    return Date.now() + this.aheadMs;
  }
}

const busy = () => new DomainError(ErrorCode.AccountBusy, 'busy');
const options = (waitMs = 0): LeaseOptions => ({ ttlMs: 10_000, waitMs, busy });

/** Two instances ("a" and "b") on one database, each with its own store and runner, sharing one clock. */
async function setUp() {
  const db = await new DataSource({ type: 'sqlite', database: ':memory:', migrations: await loadMigrations(), migrationsRun: true }).initialize();
  const clock = new ManualClock();
  const store = new LeaseStore(db, clock);
  const instance = (value: string) => ({ value }) as InstanceId;
  return { db, clock, store, a: new Leases(store, clock, instance('a')), b: new Leases(new LeaseStore(db, clock), clock, instance('b')) };
}

/** Instance `leases` takes account:r/x and keeps it until `release()`. */
async function holdLease(leases: Leases) {
  let release!: () => void;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const held = leases.run('account:r/x', options(), () => {
    started();
    return new Promise<void>((resolve) => (release = resolve));
  });
  await running;
  return { held, release };
}

describe('LeaseStore', () => {
  it("judges leases by the database's clock: instances whose clocks run 90 s ahead or behind neither take over a live lease nor lose their own", async () => {
    const db = await new DataSource({ type: 'sqlite', database: ':memory:', migrations: await loadMigrations(), migrationsRun: true }).initialize();
    const right = new LeaseStore(db, new Clock());
    const ahead = new LeaseStore(db, new SkewedSystemClock(90_000));
    const behind = new LeaseStore(db, new SkewedSystemClock(-90_000));
    expect(new SkewedSystemClock(0).isSystem).toBe(true);

    const before = Date.now();
    expect((await right.acquire('job:held', 'right', 't1', 60_000)).acquired).toBe(true);
    const after = Date.now();
    expect((await ahead.acquire('job:held', 'ahead', 't2', 60_000)).acquired).toBe(false);
    expect(await ahead.holds('job:held', 't1')).toBe(true);
    const row = (await right.read('job:held'))!;
    expect(row.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(row.expiresAt).toBeLessThanOrEqual(after + 60_000);

    expect((await behind.acquire('job:behind', 'behind', 't3', 60_000)).acquired).toBe(true);
    expect((await right.acquire('job:behind', 'right', 't4', 60_000)).acquired).toBe(false);
    expect((await ahead.acquire('job:behind', 'ahead', 't5', 60_000)).acquired).toBe(false);
    expect(await behind.renew('job:behind', 't3', 60_000)).toBe(true);
    expect(await behind.holds('job:behind', 't3')).toBe(true);
    await db.destroy();
  });

  it('gives a free lease to one holder, refuses another until it expires, then lets it take over', async () => {
    const { db, clock, store } = await setUp();
    expect(await store.acquire('account:r/x', 'a', 't1', 1_000)).toEqual({ acquired: true, takenOver: undefined });
    expect((await store.acquire('account:r/x', 'b', 't2', 1_000)).acquired).toBe(false);
    clock.ms += 1_001;
    expect(await store.acquire('account:r/x', 'b', 't2', 1_000)).toEqual({ acquired: true, takenOver: { holder: 'a', token: 't1' } });
    expect((await store.read('account:r/x'))?.holder).toBe('b');
    await db.destroy();
  });

  it('without reportTakeover decides the same, by the same conditional write, without naming the holder it replaced', async () => {
    const { db, clock, store } = await setUp();
    const quiet = { reportTakeover: false };
    expect(await store.acquire('account:r/q', 'a', 't1', 1_000, quiet)).toEqual({ acquired: true, takenOver: undefined });
    expect((await store.acquire('account:r/q', 'b', 't2', 1_000, quiet)).acquired).toBe(false);
    expect((await store.read('account:r/q'))?.token).toBe('t1');
    clock.ms += 1_001;
    expect(await store.acquire('account:r/q', 'b', 't2', 1_000, quiet)).toEqual({ acquired: true, takenOver: undefined });
    expect((await store.read('account:r/q'))?.holder).toBe('b');
    await db.destroy();
  });

  it('renews a held lease but never revives an expired one, even if nobody took it', async () => {
    const { db, clock, store } = await setUp();
    await store.acquire('job:drift', 'a', 't1', 1_000);
    clock.ms += 900;
    expect(await store.renew('job:drift', 't1', 1_000)).toBe(true);
    clock.ms += 900;
    expect(await store.holds('job:drift', 't1')).toBe(true);
    clock.ms += 200;
    expect(await store.renew('job:drift', 't1', 1_000)).toBe(false);
    expect(await store.holds('job:drift', 't1')).toBe(false);
    await db.destroy();
  });

  it('releases only with the holding token', async () => {
    const { db, store } = await setUp();
    await store.acquire('account:r/x', 'a', 't1', 1_000);
    await store.release('account:r/x', 'other');
    expect((await store.read('account:r/x'))?.token).toBe('t1');
    await store.release('account:r/x', 't1');
    expect(await store.read('account:r/x')).toBeUndefined();
    await db.destroy();
  });
});

describe('Leases', () => {
  it('runs the body under the lease and releases it afterwards, also when the body throws', async () => {
    const { db, store, a } = await setUp();
    const seen = await a.run('account:r/x', options(), async (fence) => (await store.read(fence.name))?.holder);
    expect(seen).toBe('a');
    await expect(a.run('account:r/x', options(), () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await store.read('account:r/x')).toBeUndefined();
    await db.destroy();
  });

  it('gives the lease up early on release(): another instance takes it while the body goes on, and the body can no longer check', async () => {
    const { db, store, a, b } = await setUp();
    let otherRan: string | undefined;
    await a.run('account:r/x', options(), async (fence) => {
      await fence.release();
      expect(await store.read(fence.name)).toBeUndefined();
      otherRan = await b.run('account:r/x', options(0), async (other) => (await store.read(other.name))?.holder);
      await expect(fence.check('after release')).rejects.toBeInstanceOf(LeaseLostError);
      // A second release (and the one when the body ends) leaves the other holder's lease alone.
      await fence.release();
      expect(await fence.release()).toBeUndefined();
      await b.run('account:r/x', options(0), async (other) => {
        await fence.release();
        expect((await store.read(other.name))?.token).toBe(other.token);
      });
    });
    expect(otherRan).toBe('b');
    expect(await store.read('account:r/x')).toBeUndefined();
    await db.destroy();
  });

  it('refuses with the busy error while another instance holds the lease, and gets it once that one releases', async () => {
    const { db, a, b } = await setUp();
    const { held, release } = await holdLease(a);
    await expect(b.run('account:r/x', options(0), async () => 'b ran')).rejects.toMatchObject({ code: ErrorCode.AccountBusy });
    const waiting = b.run('account:r/x', options(5_000), async () => 'b ran');
    release();
    await held;
    expect(await waiting).toBe('b ran');
    await db.destroy();
  });

  it('serialises bodies for one name in one process: none overlaps', async () => {
    const { db, a } = await setUp();
    const order: string[] = [];
    const body = (label: string) => async () => {
      order.push(`start ${label}`);
      await new Promise((resolve) => setImmediate(resolve));
      order.push(`end ${label}`);
    };
    await Promise.all([a.run('account:r/x', options(), body('1')), a.run('account:r/x', options(), body('2'))]);
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    await db.destroy();
  });

  it('stops a body at its next fence check once the lease expired mid-operation, and lets another instance take over', async () => {
    const { db, clock, a, b } = await setUp();
    const steps: string[] = [];
    const run = a.run('account:r/x', options(), async (fence) => {
      await fence.check('step 1');
      steps.push('step 1');
      clock.ms += 10_001; // paused past the lease
      expect(await b.tryRun('account:r/x', 10_000, async () => void steps.push('b recovered'))).toBe(true);
      await fence.check('step 2');
      steps.push('step 2');
    });
    await expect(run).rejects.toBeInstanceOf(LeaseLostError);
    expect(steps).toEqual(['step 1', 'b recovered']);
    await db.destroy();
  });

  it('renews at a fence check only once a quarter of the lease has passed since it was last confirmed', async () => {
    const { db, clock, store, a } = await setUp();
    const renew = jest.spyOn(store, 'renew');
    await a.run('account:r/x', options(), async (fence) => {
      await fence.check('step 1');
      clock.ms += 2_000;
      await fence.check('step 2');
      expect(renew).not.toHaveBeenCalled();
      clock.ms += 1_000; // 3 s since acquisition: past a quarter of 10 s
      await fence.check('step 3');
      expect(renew).toHaveBeenCalledTimes(1);
      clock.ms += 2_000; // 2 s since that renewal
      await fence.check('step 4');
      expect(renew).toHaveBeenCalledTimes(1);
      clock.ms -= 60_000; // the wall clock stepped back: confirm rather than trust
      await fence.check('step 5');
      expect(renew).toHaveBeenCalledTimes(2);
    });
    expect(await store.read('account:r/x')).toBeUndefined();
    await db.destroy();
  });

  it('stops a body whose lease expired even when nobody took it over', async () => {
    const { db, clock, a } = await setUp();
    const run = a.run('account:r/x', options(), async (fence) => {
      clock.ms += 10_001;
      await fence.check('create client');
    });
    await expect(run).rejects.toMatchObject({ code: ErrorCode.LeaseLost });
    await db.destroy();
  });

  it('tryRun skips a lease held here or by a live instance elsewhere', async () => {
    const { db, a, b } = await setUp();
    const { held, release } = await holdLease(a);
    expect(await a.tryRun('account:r/x', 10_000, async () => undefined)).toBe(false);
    expect(await b.tryRun('account:r/x', 10_000, async () => undefined)).toBe(false);
    release();
    await held;
    expect(await b.tryRun('account:r/x', 10_000, async () => undefined)).toBe(true);
    await db.destroy();
  });
});
