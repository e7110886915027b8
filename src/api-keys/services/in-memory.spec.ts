import { FixedWindowLimiter } from './fixed-window-limiter.js';
import { TtlCache } from '../../common/cache/ttl-cache.js';
import { UsageBuffer } from './usage-buffer.js';
import type { UsageCounted } from './key-index.js';

describe('TtlCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('forgets entries after their TTL', () => {
    const cache = new TtlCache<string, number>(10, 5_000, clock);
    cache.set('a', 1);
    now += 4_999;
    expect(cache.get('a')).toBe(1);
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stays within its size, evicting the oldest entry', () => {
    const cache = new TtlCache<string, number>(2, 5_000, clock);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
    expect(cache.get('c')).toBe(3);
  });

  it('deletes by predicate and can be disabled', () => {
    const cache = new TtlCache<string, { account: string }>(10, 5_000, clock);
    cache.set('a', { account: 'x' });
    cache.set('b', { account: 'y' });
    expect(cache.deleteWhere((value) => value.account === 'x')).toBe(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual({ account: 'y' });
    const off = new TtlCache<string, number>(10, 0, clock);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
  });
});

/** A read the test settles by hand, counting how often it was started. */
function deferredLoads<V>() {
  const pending: { resolve: (value: V) => void; reject: (error: Error) => void }[] = [];
  const load = () =>
    new Promise<V>((resolve, reject) => {
      pending.push({ resolve, reject });
    });
  return { load, pending };
}

describe('TtlCache.getOrLoad', () => {
  it('reads a missing key once for every caller that asks while the read runs, and keeps the answer', async () => {
    const cache = new TtlCache<string, string | null>(10, 1_000, () => 0);
    const { load, pending } = deferredLoads<string | null>();
    const asked = [cache.getOrLoad('acct', load), cache.getOrLoad('acct', load), cache.getOrLoad('acct', load)];
    expect(pending).toHaveLength(1);
    pending[0].resolve(null);
    await expect(Promise.all(asked)).resolves.toEqual([null, null, null]);
    // A kept null is an answer too (an unknown account), given without a read.
    expect(cache.getOrLoad('acct', load)).toBeNull();
    expect(pending).toHaveLength(1);
  });

  it('answers a held value at once, not as a promise', () => {
    const cache = new TtlCache<string, number>(10, 1_000, () => 0);
    cache.set('a', 7);
    expect(cache.getOrLoad('a', () => Promise.resolve(8))).toBe(7);
  });

  it('reads again once the kept answer has expired', async () => {
    let now = 0;
    const cache = new TtlCache<string, number>(10, 100, () => now);
    let reads = 0;
    const load = () => Promise.resolve(++reads);
    await expect(cache.getOrLoad('a', load)).resolves.toBe(1);
    now = 100;
    await expect(cache.getOrLoad('a', load)).resolves.toBe(2);
    expect(cache.get('a')).toBe(2);
  });

  it.each([
    ['delete', (cache: TtlCache<string, string>) => cache.delete('a')],
    ['clear', (cache: TtlCache<string, string>) => cache.clear()],
    ['deleteWhere', (cache: TtlCache<string, string>) => cache.deleteWhere(() => false)],
  ])('answers but does not keep a read the key was dropped during (%s): it may predate the change', async (_name, drop) => {
    const cache = new TtlCache<string, string>(10, 1_000, () => 0);
    const { load, pending } = deferredLoads<string>();
    const before = cache.getOrLoad('a', load);
    drop(cache);
    // A caller after the change does not join the older read.
    const after = cache.getOrLoad('a', load);
    expect(pending).toHaveLength(2);
    pending[0].resolve('old');
    pending[1].resolve('new');
    await expect(before).resolves.toBe('old');
    await expect(after).resolves.toBe('new');
    expect(cache.get('a')).toBe('new');
  });

  it('keeps a value set while a read runs rather than the read', async () => {
    const cache = new TtlCache<string, string>(10, 1_000, () => 0);
    const { load, pending } = deferredLoads<string>();
    const read = cache.getOrLoad('a', load);
    cache.set('a', 'fresh');
    pending[0].resolve('stale');
    await expect(read).resolves.toBe('stale');
    expect(cache.get('a')).toBe('fresh');
  });

  it('gives a failed read to each of its callers and keeps nothing, so the next caller reads again', async () => {
    const cache = new TtlCache<string, string>(10, 1_000, () => 0);
    const { load, pending } = deferredLoads<string>();
    const first = cache.getOrLoad('a', load);
    const second = cache.getOrLoad('a', load);
    pending[0].reject(new Error('database gone'));
    await expect(first).rejects.toThrow('database gone');
    await expect(second).rejects.toThrow('database gone');
    expect(cache.get('a')).toBeUndefined();
    const third = cache.getOrLoad('a', load);
    expect(pending).toHaveLength(2);
    pending[1].resolve('back');
    await expect(third).resolves.toBe('back');
  });

  it.each([
    ['a time-to-live of 0', 10, 0],
    ['a size of 0', 0, 1_000],
  ])('with caching disabled (%s), every caller reads for itself', async (_name, size, ttl) => {
    const cache = new TtlCache<string, number>(size, ttl, () => 0);
    let reads = 0;
    const load = () => Promise.resolve(++reads);
    await expect(Promise.all([cache.getOrLoad('a', load), cache.getOrLoad('a', load)])).resolves.toEqual([1, 2]);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('FixedWindowLimiter', () => {
  let now = 0;
  const limiter = () => new FixedWindowLimiter(() => now, 3);

  it('allows `limit` events per window, then refuses with the seconds to wait, then recovers', () => {
    now = 10_000;
    const l = limiter();
    expect(l.hit('k', 2, 10).allowed).toBe(true);
    now += 1_000;
    expect(l.hit('k', 2, 10).allowed).toBe(true);
    expect(l.hit('k', 2, 10)).toEqual({ allowed: false, retryAfterSeconds: 9 });
    expect(l.hit('other', 2, 10).allowed).toBe(true);
    now += 9_000;
    expect(l.hit('k', 2, 10).allowed).toBe(true);
  });

  it('forgets a key', () => {
    now = 0;
    const l = limiter();
    l.hit('k', 1, 60);
    expect(l.hit('k', 1, 60).allowed).toBe(false);
    l.forget('k');
    expect(l.hit('k', 1, 60).allowed).toBe(true);
  });

  it('when full, frees an eighth of its room: windows that ended first, then the oldest keys', () => {
    now = 0;
    const l = new FixedWindowLimiter(() => now, 16);
    for (let i = 0; i < 16; i += 1) {
      now = i * 1_000;
      l.hit(`k${i}`, 1, 60);
    }
    // k0's window has ended, k1's has not: the sweep frees k0, and k1 goes too for an eighth (2) of room.
    now = 60_500;
    expect(l.hit('x', 1, 60).allowed).toBe(true);
    expect(l.hit('k1', 1, 60).allowed).toBe(true);
    expect(l.hit('k2', 1, 60).allowed).toBe(false);
    expect(l.hit('k15', 1, 60).allowed).toBe(false);
  });

  it('when full, never drops the live window of a key in constant use, however long ago it was first seen', () => {
    now = 0;
    const l = new FixedWindowLimiter(() => now, 16);
    l.hit('hot', 1, 60);
    for (let i = 1; i < 16; i += 1) {
      now = i * 1_000;
      l.hit(`k${i}`, 1, 60);
    }
    // hot's second window starts; it is now the newest, so making room takes k1 (ended) and k2 (nearest its end).
    now = 60_000;
    expect(l.hit('hot', 1, 60).allowed).toBe(true);
    expect(l.hit('hot', 1, 60).allowed).toBe(false);
    now = 61_500;
    expect(l.hit('new', 1, 60).allowed).toBe(true);
    expect(l.hit('hot', 1, 60)).toEqual({ allowed: false, retryAfterSeconds: 59 });
    expect(l.hit('k2', 1, 60).allowed).toBe(true);
    expect(l.hit('k3', 1, 60).allowed).toBe(false);
  });

  it('judges each window by its own length when sweeping: a short window does not end a longer one', () => {
    now = 0;
    const l = new FixedWindowLimiter(() => now, 4);
    l.hit('minute', 1, 60);
    l.hit('a', 1, 1);
    l.hit('b', 1, 1);
    l.hit('c', 1, 1);
    // Full; 'a', 'b' and 'c' have ended, 'minute' has not: the sweep frees the three short ones only.
    now = 2_000;
    expect(l.hit('d', 1, 1).allowed).toBe(true);
    expect(l.hit('minute', 1, 60)).toEqual({ allowed: false, retryAfterSeconds: 58 });
  });

  it('keeps a bounded number of keys', () => {
    now = 0;
    const l = limiter();
    for (const key of ['a', 'b', 'c', 'd', 'e']) l.hit(key, 1, 60);
    // 'a' and 'b' were dropped to make room, so they start afresh.
    expect(l.hit('a', 1, 60).allowed).toBe(true);
    expect(l.hit('e', 1, 60).allowed).toBe(false);
  });
});

describe('UsageBuffer', () => {
  const keys = (...ids: string[]) => ids.map((id): UsageCounted => ({ id, uses: 0, lastUse: 0 }));

  it('aggregates uses per key and drains them as one batch', () => {
    const buffer = new UsageBuffer();
    const [k1, k2] = keys('k1', 'k2');
    buffer.record(k1, 1_000);
    buffer.record(k1, 3_000);
    buffer.record(k1, 2_000);
    buffer.record(k2, 5_000);
    const batch = buffer.drain();
    expect(batch.get('k1')).toEqual({ uses: 3, lastUsedAt: 3_000 });
    expect(batch.get('k2')).toEqual({ uses: 1, lastUsedAt: 5_000 });
    expect(buffer.size).toBe(0);
    expect(k1.uses).toBe(0);
    buffer.record(k1, 4_000);
    buffer.restore(batch);
    expect(buffer.drain().get('k1')).toEqual({ uses: 4, lastUsedAt: 4_000 });
  });

  it("keeps each key's latest use, whether it comes before or after the batch's first", () => {
    const buffer = new UsageBuffer();
    const [k1, k2, k3] = keys('k1', 'k2', 'k3');
    buffer.record(k1, 10_000);
    buffer.record(k2, 2_000);
    buffer.record(k2, 1_000);
    buffer.record(k1, 9_000);
    const batch = buffer.drain();
    expect(Object.fromEntries(batch)).toEqual({ k1: { uses: 2, lastUsedAt: 10_000 }, k2: { uses: 2, lastUsedAt: 2_000 } });
    // A batch put back keeps its times; later uses merge into them.
    buffer.restore(batch);
    buffer.record(k2, 1_500);
    buffer.record(k3, 500);
    expect(Object.fromEntries(buffer.drain())).toEqual({ k1: { uses: 2, lastUsedAt: 10_000 }, k2: { uses: 3, lastUsedAt: 2_000 }, k3: { uses: 1, lastUsedAt: 500 } });
    expect(buffer.size).toBe(0);
  });

  it('merges the uses counted on two records of one key (the index\'s and a query\'s)', () => {
    const buffer = new UsageBuffer();
    const [indexed, queried] = keys('k1', 'k1');
    buffer.record(indexed, 1_000);
    buffer.record(queried, 2_000);
    buffer.record(indexed, 1_500);
    expect(Object.fromEntries(buffer.drain())).toEqual({ k1: { uses: 3, lastUsedAt: 2_000 } });
    // Each record is listed again at its first use of the next batch.
    buffer.record(queried, 3_000);
    expect(Object.fromEntries(buffer.drain())).toEqual({ k1: { uses: 1, lastUsedAt: 3_000 } });
  });
});
