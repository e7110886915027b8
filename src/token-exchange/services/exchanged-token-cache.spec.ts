import { jest } from '@jest/globals';
import { ExchangedTokenCache } from './exchanged-token-cache.js';

describe('ExchangedTokenCache', () => {
  let now = 1_000_000;
  const clock = () => now;
  const token = (keyId: string, clientId = 'svc') => ({ accessToken: `t-${keyId}-${now}`, scopes: [], keyId, realm: 'r', clientId, expiresAt: now + 300_000 });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('serves a token for 80 % of its lifetime, then fetches a new one', async () => {
    const cache = new ExchangedTokenCache(10, clock);
    const fetch = jest.fn(async () => token('k1'));
    const first = await cache.getOrFetch('k1|a', fetch);
    expect(first.hit).toBe(false);
    now += 239_000;
    expect((await cache.getOrFetch('k1|a', fetch)).hit).toBe(true);
    now += 2_000;
    expect((await cache.getOrFetch('k1|a', fetch)).hit).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('shares one fetch between concurrent misses', async () => {
    const cache = new ExchangedTokenCache(10, clock);
    let release!: () => void;
    const fetch = jest.fn(() => new Promise<ReturnType<typeof token>>((resolve) => (release = () => resolve(token('k1')))));
    const both = Promise.all([cache.getOrFetch('k1|a', fetch), cache.getOrFetch('k1|a', fetch)]);
    release();
    const [a, b] = await both;
    expect(a.token.accessToken).toBe(b.token.accessToken);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('drops tokens by key and by account, and does not store a fetch that was under way then', async () => {
    const cache = new ExchangedTokenCache(10, clock);
    await cache.getOrFetch('k1|a', async () => token('k1'));
    await cache.getOrFetch('k2|a', async () => token('k2', 'other'));
    cache.forgetKey('k1');
    expect(cache.countFor('k1')).toBe(0);
    expect(cache.countFor('k2')).toBe(1);
    cache.forgetAccount('r', 'other');
    expect(cache.countFor('k2')).toBe(0);

    let release!: () => void;
    const pending = cache.getOrFetch('k3|a', () => new Promise((resolve) => (release = () => resolve(token('k3')))));
    cache.forgetKey('k3');
    release();
    expect((await pending).hit).toBe(false);
    expect(cache.countFor('k3')).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new ExchangedTokenCache(2, clock);
    for (const id of ['a', 'b', 'c']) await cache.getOrFetch(id, async () => token(id));
    expect(cache.size).toBe(2);
    expect(cache.countFor('a')).toBe(0);
  });
});
