import { dropOldestWhenFull } from '../../common/cache/drop-oldest.js';

/** A token Keycloak issued for a key, as cached. Never logged. */
export interface CachedToken {
  accessToken: string;
  /** The token's scope as Keycloak answered it, split. */
  scopes: string[];
  keyId: string;
  realm: string;
  clientId: string;
  expiresAt: number;
  /** After this moment the token is not handed out again: a fresh one is fetched. */
  refreshAt: number;
}

/** Share of a token's lifetime during which it is handed out from the cache. */
const SERVE_FRACTION = 0.8;

/**
 * Tokens per key and scope set, each until shortly before it expires (80 % of its lifetime), so a
 * caller always gets at least a fifth of the lifetime. Bounded: the oldest entries go first (an
 * eighth at a time, see dropOldestWhenFull). Concurrent misses for one entry share one Keycloak
 * request. Dropping a key or an account bumps a generation, so a request already under way when it
 * happened does not refill the cache.
 */
export class ExchangedTokenCache {
  private readonly entries = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  private generation = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  static keyOf(keyId: string, scopes: string[]): string {
    return `${keyId}\u0000${scopes.join(' ')}`;
  }

  get(cacheKey: string): CachedToken | undefined {
    const entry = this.entries.get(cacheKey);
    if (!entry) return undefined;
    if (entry.refreshAt <= this.now()) {
      this.entries.delete(cacheKey);
      return undefined;
    }
    return entry;
  }

  /** The cached token, or the one `fetch` brings (shared by concurrent callers); `hit` says which. */
  async getOrFetch(cacheKey: string, fetch: () => Promise<Omit<CachedToken, 'refreshAt'>>): Promise<{ token: CachedToken; hit: boolean }> {
    const cached = this.get(cacheKey);
    if (cached) return { token: cached, hit: true };
    const existing = this.pending.get(cacheKey);
    if (existing) return { token: await existing, hit: false };
    const generation = this.generation;
    const pending = fetch().then((fetched) => {
      const issuedAt = this.now();
      const token = { ...fetched, refreshAt: issuedAt + (fetched.expiresAt - issuedAt) * SERVE_FRACTION };
      if (generation === this.generation) this.store(cacheKey, token);
      return token;
    });
    this.pending.set(cacheKey, pending);
    try {
      return { token: await pending, hit: false };
    } finally {
      if (this.pending.get(cacheKey) === pending) this.pending.delete(cacheKey);
    }
  }

  /** How many tokens are cached for a key (diagnostics and tests). */
  countFor(keyId: string): number {
    let count = 0;
    for (const token of this.entries.values()) if (token.keyId === keyId && token.refreshAt > this.now()) count += 1;
    return count;
  }

  forgetKey(keyId: string): void {
    this.forgetWhere((token) => token.keyId === keyId);
  }

  forgetAccount(realm: string, clientId: string): void {
    this.forgetWhere((token) => token.realm === realm && token.clientId === clientId);
  }

  forgetAll(): void {
    this.forgetWhere(() => true);
  }

  private forgetWhere(predicate: (token: CachedToken) => boolean): void {
    this.generation += 1;
    this.pending.clear();
    for (const [cacheKey, token] of this.entries) {
      if (predicate(token)) this.entries.delete(cacheKey);
    }
  }

  private store(cacheKey: string, token: CachedToken): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(cacheKey);
    dropOldestWhenFull(this.entries, this.maxEntries);
    this.entries.set(cacheKey, token);
  }
}
