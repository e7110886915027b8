import { describe, expect, it } from '@jest/globals';
import { TtlCache } from './ttl-cache.js';

/** A read the test settles by hand, counting how often it was started. */
function deferredLoads<V>() {
  const pending: { resolve: (value: V) => void; reject: (error: Error) => void }[] = [];
  const load = () =>
    new Promise<V>((resolve, reject) => {
      pending.push({ resolve, reject });
    });
  return { load, pending };
}

describe('TtlCache', () => {
  it('keeps a value until its time-to-live has passed', () => {
    let now = 1_000;
    const cache = new TtlCache<string, number>(10, 100, () => now);
    cache.set('a', 1);
    now += 99;
    expect(cache.get('a')).toBe(1);
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the oldest entries when full', () => {
    const cache = new TtlCache<number, number>(8, 1_000, () => 0);
    for (let i = 0; i < 9; i++) cache.set(i, i);
    expect(cache.get(0)).toBeUndefined();
    expect(cache.get(8)).toBe(8);
  });

  describe('getOrLoad', () => {
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
});
