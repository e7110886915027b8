import { dropOldestWhenFull } from './drop-oldest.js';

describe('dropOldestWhenFull', () => {
  const filled = (n: number) => new Map(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

  it('leaves a map below its bound alone', () => {
    const entries = filled(15);
    dropOldestWhenFull(entries, 16);
    expect(entries.size).toBe(15);
  });

  it('when full, drops the oldest eighth in insertion order and keeps the newest', () => {
    const entries = filled(16);
    dropOldestWhenFull(entries, 16);
    expect([...entries.keys()]).toEqual(Array.from({ length: 14 }, (_, i) => `k${i + 2}`));
  });

  it('brings an over-full map (a bound lowered) down to an eighth below its bound, and drops one at least', () => {
    const over = filled(40);
    dropOldestWhenFull(over, 16);
    expect(over.size).toBe(14);
    expect(over.has('k39')).toBe(true);
    const tiny = filled(3);
    dropOldestWhenFull(tiny, 3);
    expect([...tiny.keys()]).toEqual(['k1', 'k2']);
  });

  it('keeps a cache that stays full bounded over many inserts', () => {
    const entries = new Map<string, number>();
    for (let i = 0; i < 10_000; i += 1) {
      dropOldestWhenFull(entries, 1_000);
      entries.set(`k${i}`, i);
    }
    expect(entries.size).toBeLessThanOrEqual(1_000);
    expect(entries.size).toBeGreaterThan(875);
    expect(entries.has('k9999')).toBe(true);
    expect(entries.has('k0')).toBe(false);
  });
});
