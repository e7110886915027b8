import { VerifiedTokenCache } from './verified-token-cache.js';

describe('VerifiedTokenCache', () => {
  const NOW = 1_900_000_000_000;
  const payload = (exp: number) => ({ azp: 'gateway', exp });

  it('keeps each token until its exp, and none already expired', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('a', payload(NOW / 1000 + 60), NOW, 1);
    cache.set('b', payload(NOW / 1000), NOW, 1);
    expect(cache.get('a', NOW + 59_999, 1)).toMatchObject({ azp: 'gateway' });
    expect(cache.get('a', NOW + 60_000, 1)).toBeUndefined();
    expect(cache.get('b', NOW, 1)).toBeUndefined();
  });

  it('stays within its size, the oldest entry going first', () => {
    const cache = new VerifiedTokenCache(2);
    for (const key of ['a', 'b', 'c']) cache.set(key, payload(NOW / 1000 + 60), NOW, 1);
    expect(cache.size).toBe(2);
    expect(cache.get('a', NOW, 1)).toBeUndefined();
    expect(cache.get('c', NOW, 1)).toBeDefined();
  });

  it('empties when the key set version changes', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('a', payload(NOW / 1000 + 60), NOW, 1);
    expect(cache.get('a', NOW, 2)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keys tokens by a hash that never holds the token', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl';
    const key = VerifiedTokenCache.keyOf(token);
    expect(key).toHaveLength(44);
    expect(key).not.toContain('eyJ');
    expect(VerifiedTokenCache.keyOf(`${token}x`)).not.toBe(key);
  });
});
