import { BoundedMemo } from './bounded-memo.js';

describe('BoundedMemo', () => {
  it('computes a key once while it is held, and holds at most maxEntries', () => {
    const computed: number[] = [];
    const memo = new BoundedMemo(2, (n: number) => (computed.push(n), `v${n}`));
    expect([memo.get(1), memo.get(1), memo.get(2), memo.get(1)]).toEqual(['v1', 'v1', 'v2', 'v1']);
    expect(computed).toEqual([1, 2]);
    // Full: a third key empties it, so 1 is computed again afterwards.
    expect(memo.get(3)).toBe('v3');
    expect(memo.get(1)).toBe('v1');
    expect(computed).toEqual([1, 2, 3, 1]);
  });
});
