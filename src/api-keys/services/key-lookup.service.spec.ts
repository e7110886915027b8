import { loadConfig } from '../../config/app-config.js';
import { Clock } from '../../common/time/clock.js';
import { BYTES_PER_KEY, KeyIndex, type KeyRecord } from './key-index.js';
import { KeyLookup } from './key-lookup.service.js';
import type { ChangedKeyRecord, HashedKeyRecord, KeyRows } from './key-rows.js';

class FixedClock extends Clock {
  at = Date.parse('2030-01-01T00:00:00Z');
  override now(): Date {
    return new Date(this.at);
  }
}

/** Distinct in its first 32 hex digits, which the index is keyed by. */
const hashOf = (n: number) => `${n.toString(16).padStart(32, '0')}${'f'.repeat(32)}`;
const DAY = 86_400_000;

type Row = { -readonly [K in keyof KeyRecord]: KeyRecord[K] } & { changedAt: number | null };

/** The api_keys table as the reads see it: what another instance writes shows up here. */
class FakeKeyRows {
  readonly table = new Map<string, Row>();
  byHashCalls = 0;
  pages = 0;
  /** Held reads answer what the table held when they started, once the gate opens. */
  gate: Promise<void> = Promise.resolve();

  /** How far the database server's clock is ahead of this instance's (behind if negative). */
  databaseAheadMs = 0;

  constructor(private readonly clock: FixedClock) {}

  /** The database's time, which stamps changes: what the services write as `changed_at`. */
  get databaseAt(): number {
    return this.clock.at + this.databaseAheadMs;
  }

  /** Reads of the database's time that fail before the next one answers (a database not reachable yet). */
  nowFailures = 0;

  async databaseNowMs(): Promise<number> {
    if (this.nowFailures > 0) {
      this.nowFailures -= 1;
      throw new Error('connection refused');
    }
    return this.databaseAt;
  }

  add(n: number, changes: Partial<Row> = {}): string {
    const hash = hashOf(n);
    this.table.set(hash, {
      id: `key_${String(n).padStart(22, '0')}`,
      account: { realm: 'platform', clientId: `acct-${n % 3}` },
      scopes: ['read:data'],
      expiresAt: this.clock.at + 30 * DAY,
      revokedAt: null,
      changedAt: null,
      ...changes,
    });
    return hash;
  }

  async byHash(hash: string): Promise<KeyRecord | null> {
    this.byHashCalls += 1;
    const row = this.table.get(hash);
    const then = row ? { ...row } : null;
    await this.gate;
    return then;
  }

  async livePage(now: Date, beforeId: string | null, limit: number): Promise<HashedKeyRecord[]> {
    this.pages += 1;
    const page = [...this.table]
      .filter(([, r]) => r.revokedAt === null && r.expiresAt > now.getTime() && (beforeId === null || r.id < beforeId))
      .sort(([, a], [, b]) => b.id.localeCompare(a.id))
      .slice(0, limit)
      .map(([hash, record]) => ({ hash, record: { ...record } }));
    await this.gate;
    return page;
  }

  /** Holds every read from now on until the returned function is called. */
  hold(): () => void {
    let open = () => {};
    this.gate = new Promise((resolve) => {
      open = resolve;
    });
    return () => {
      this.gate = Promise.resolve();
      open();
    };
  }

  async changedSince(sinceMs: number, after: { changedAt: number; id: string } | null, limit: number): Promise<ChangedKeyRecord[]> {
    return [...this.table]
      .filter(([, r]) => r.changedAt !== null && r.changedAt >= sinceMs)
      .map(([hash, r]) => ({ hash, record: r, changedAt: r.changedAt!, id: r.id }))
      .sort((a, b) => a.changedAt - b.changedAt || a.id.localeCompare(b.id))
      .filter((c) => !after || c.changedAt > after.changedAt || (c.changedAt === after.changedAt && c.id > after.id))
      .slice(0, limit);
  }
}

function setUp(memoryMb = 1, env: Record<string, string> = {}) {
  const config = loadConfig({ KEYCLOAK_CLIENT_SECRET: 'x', KEYSMITH_MASTER_KEY: 'ab'.repeat(32), KEYSMITH_KEY_INDEX_MEMORY_MB: String(memoryMb), ...env });
  const clock = new FixedClock();
  const rows = new FakeKeyRows(clock);
  const lookup = new KeyLookup(rows as unknown as KeyRows, config, clock);
  return { config, clock, rows, lookup };
}

describe('KeyIndex', () => {
  const record = (id: string): KeyRecord => ({ id, account: { realm: 'platform', clientId: 'billing' }, scopes: ['read:data'], expiresAt: 1, revokedAt: null });

  it('holds at most what its memory budget allows, and replaces a held key even when full', () => {
    const index = new KeyIndex(2 * BYTES_PER_KEY);
    expect(index.maxKeys).toBe(2);
    expect(index.put(hashOf(1), record('a'))).toBe(true);
    expect(index.put(hashOf(2), record('b'))).toBe(true);
    expect(index.put(hashOf(3), record('c'))).toBe(false);
    expect(index.put(hashOf(1), { ...record('a'), scopes: ['write:data'] })).toBe(true);
    expect(index.get(hashOf(1))?.scopes).toEqual(['write:data']);
    expect(index.get(hashOf(3))).toBeUndefined();
    expect(index.size).toBe(2);
  });

  it('holds only live keys: a revoked record removes the key', () => {
    const index = new KeyIndex(10 * BYTES_PER_KEY);
    index.put(hashOf(1), record('a'));
    expect(index.put(hashOf(1), { ...record('a'), revokedAt: 5 })).toBe(false);
    expect(index.get(hashOf(1))).toBeUndefined();
  });

  it('shares one account and one scope list between keys that hold the same', () => {
    const index = new KeyIndex(10 * BYTES_PER_KEY);
    index.put(hashOf(1), record('a'));
    index.put(hashOf(2), record('b'));
    expect(index.get(hashOf(1))!.account).toBe(index.get(hashOf(2))!.account);
    expect(index.get(hashOf(1))!.scopes).toBe(index.get(hashOf(2))!.scopes);
  });
});

describe('KeyLookup', () => {
  it('loads every live key page by page at start, then answers from memory without a query', async () => {
    const { rows, lookup } = setUp(10);
    const hashes = Array.from({ length: 12_000 }, (_, i) => rows.add(i + 1));
    rows.add(20_000, { revokedAt: 1 });
    lookup.start();
    await lookup.loaded;
    lookup.beforeApplicationShutdown();
    expect(rows.pages).toBe(3);
    expect(lookup.index.size).toBe(12_000);
    for (const hash of hashes.slice(0, 100)) expect((await lookup.find(hash)).cached).toBe(true);
    expect(rows.byHashCalls).toBe(0);
  });

  it('falls back to a query, cached for the TTL, for keys beyond the memory budget', async () => {
    const { rows, lookup, clock, config } = setUp(1);
    const max = lookup.index.maxKeys;
    for (let i = 1; i <= max + 10; i += 1) rows.add(i);
    lookup.start();
    await lookup.loaded;
    lookup.beforeApplicationShutdown();
    expect(lookup.index.size).toBe(max);
    // The load goes newest first, so the oldest keys are the ones left out.
    const outside = hashOf(1);
    expect(await lookup.find(outside)).toMatchObject({ cached: false, record: { id: `key_${'1'.padStart(22, '0')}` } });
    expect(await lookup.find(outside)).toMatchObject({ cached: true });
    expect(rows.byHashCalls).toBe(1);
    clock.at += config.apiKeys.cacheTtlMs;
    expect(await lookup.find(outside)).toMatchObject({ cached: false });
    expect(rows.byHashCalls).toBe(2);
  });

  it('learns a key issued after the load on first use, and caches unknown keys only for the TTL', async () => {
    const { rows, lookup, clock, config } = setUp();
    await lookup.pollChanges();
    const unknown = hashOf(99);
    expect(await lookup.find(unknown)).toEqual({ record: null, cached: false });
    expect(await lookup.find(unknown)).toEqual({ record: null, cached: true });
    const issued = rows.add(7);
    expect((await lookup.find(issued)).record?.id).toBe(`key_${'7'.padStart(22, '0')}`);
    expect(lookup.index.get(issued)).toBeDefined();
    rows.add(99);
    clock.at += config.apiKeys.cacheTtlMs;
    expect((await lookup.find(unknown)).record).not.toBeNull();
  });

  it('peek answers only what memory holds (the index, cached lookups), never with a query', async () => {
    const { rows, lookup, clock, config } = setUp();
    const indexed = rows.add(3);
    lookup.start();
    await lookup.loaded;
    lookup.beforeApplicationShutdown();
    expect(lookup.peek(indexed)).toMatchObject({ cached: true, record: { id: `key_${'3'.padStart(22, '0')}` } });
    const unknown = hashOf(98);
    expect(lookup.peek(unknown)).toBeUndefined();
    await lookup.find(unknown);
    expect(lookup.peek(unknown)).toEqual({ record: null, cached: true });
    clock.at += config.apiKeys.cacheTtlMs;
    expect(lookup.peek(unknown)).toBeUndefined();
    expect(rows.byHashCalls).toBe(1);
  });

  it('drops a key at once with forgetKeyHash, reads it again with refreshKey', async () => {
    const { rows, lookup, clock } = setUp();
    await lookup.pollChanges();
    const hash = rows.add(1);
    await lookup.find(hash);
    rows.table.get(hash)!.revokedAt = clock.at;
    lookup.forgetKeyHash(hash);
    expect((await lookup.find(hash)).record?.revokedAt).toBe(clock.at);
    expect(lookup.index.get(hash)).toBeUndefined();

    const other = rows.add(2);
    await lookup.find(other);
    rows.table.get(other)!.expiresAt = clock.at + 1_000;
    await lookup.refreshKey(other);
    expect(lookup.index.get(other)?.expiresAt).toBe(clock.at + 1_000);
  });

  it('does not keep what a read that started before a key was forgotten (revoked here) found', async () => {
    const { rows, lookup, clock } = setUp();
    await lookup.pollChanges();
    const hash = rows.add(1);
    const release = rows.hold();
    const lookupUnderWay = lookup.find(hash);
    // The key is revoked here while the read is under way: the read found it live.
    rows.table.get(hash)!.revokedAt = clock.at;
    lookup.forgetKeyHash(hash);
    release();
    expect((await lookupUnderWay).record?.revokedAt).toBeNull();
    expect(lookup.peek(hash)).toBeUndefined();
    // The next lookup reads the row again and finds it revoked.
    expect((await lookup.find(hash)).record?.revokedAt).toBe(clock.at);
    expect(rows.byHashCalls).toBe(2);
    // A read that starts after the forget is kept.
    const other = rows.add(2);
    lookup.forgetKeyHash(other);
    await lookup.find(other);
    expect(lookup.index.get(other)).toBeDefined();
  });

  it('leaves out of its start-up load a key forgotten while the page holding it was read', async () => {
    const { rows, lookup, clock } = setUp();
    const revoked = rows.add(1);
    const kept = rows.add(2);
    const release = rows.hold();
    lookup.start();
    rows.table.get(revoked)!.revokedAt = clock.at;
    lookup.forgetKeyHash(revoked);
    release();
    await lookup.loaded;
    await lookup.beforeApplicationShutdown();
    expect(lookup.index.get(revoked)).toBeUndefined();
    expect(lookup.index.get(kept)).toBeDefined();
  });

  it('applies what another instance changed at its next read of changes: revoked, rotated, issued', async () => {
    const { rows, lookup, clock } = setUp();
    const revoked = rows.add(1);
    const rotated = rows.add(2);
    lookup.start();
    await lookup.loaded;
    lookup.beforeApplicationShutdown();
    expect(lookup.index.size).toBe(2);

    clock.at += 500;
    Object.assign(rows.table.get(revoked)!, { revokedAt: clock.at, changedAt: clock.at });
    Object.assign(rows.table.get(rotated)!, { expiresAt: clock.at + 60_000, changedAt: clock.at });
    const issued = rows.add(3, { changedAt: clock.at });
    clock.at += 500;
    await lookup.pollChanges();

    expect(lookup.index.get(revoked)).toBeUndefined();
    expect((await lookup.find(revoked)).record?.revokedAt).not.toBeNull();
    expect(lookup.index.get(rotated)?.expiresAt).toBe(clock.at - 500 + 60_000);
    expect(lookup.index.get(issued)).toBeDefined();
  });

  it('learns keys only once it knows where its reads of changes start, so none it holds can change unseen', async () => {
    const { rows, lookup } = setUp();
    const hash = rows.add(1);
    await lookup.find(hash);
    expect(lookup.index.get(hash)).toBeUndefined();
    await lookup.pollChanges();
    await lookup.refreshKey(hash);
    expect(lookup.index.get(hash)).toBeDefined();
  });

  it('loads once the database time can be read, when it could not be at start', async () => {
    const { rows, lookup } = setUp();
    const hash = rows.add(1);
    rows.nowFailures = 1;
    lookup.start();
    await lookup.loaded;
    expect(lookup.index.size).toBe(0);
    expect(rows.pages).toBe(0);
    await lookup.pollChanges();
    await lookup.beforeApplicationShutdown();
    expect(lookup.index.get(hash)).toBeDefined();
  });

  it.each([
    ['ahead of', 60_000],
    ['behind', -60_000],
  ])("reads another instance's change whose clock is a minute %s the database's", async (_, readerAheadMs) => {
    // Changes are stamped, and reads of them start, on the database's clock: this instance's
    // clock does not decide which changes it reads.
    const { rows, lookup, clock } = setUp();
    rows.databaseAheadMs = -readerAheadMs;
    const revoked = rows.add(1);
    lookup.start();
    await lookup.loaded;
    lookup.beforeApplicationShutdown();
    expect(lookup.index.get(revoked)).toBeDefined();

    clock.at += 1_000;
    Object.assign(rows.table.get(revoked)!, { revokedAt: rows.databaseAt, changedAt: rows.databaseAt });
    const issued = rows.add(2, { changedAt: rows.databaseAt });
    clock.at += 1_000;
    await lookup.pollChanges();

    expect(lookup.index.get(revoked)).toBeUndefined();
    expect(lookup.index.get(issued)).toBeDefined();
  });

  it('reads changes in pages, so a mass revocation is applied whole', async () => {
    const { rows, lookup, clock } = setUp(10);
    const hashes = Array.from({ length: 6_000 }, (_, i) => rows.add(i + 1));
    lookup.start();
    await lookup.loaded;
    lookup.beforeApplicationShutdown();
    clock.at += 100;
    for (const hash of hashes) Object.assign(rows.table.get(hash)!, { revokedAt: clock.at, changedAt: clock.at });
    await lookup.pollChanges();
    expect(lookup.index.size).toBe(0);
  });

  it('forgetAccount drops the cached lookups of that account only', async () => {
    const { rows, lookup, config } = setUp(0);
    expect(config.apiKeys.keyIndexMemoryBytes).toBe(0);
    const a = rows.add(3); // acct-0
    const b = rows.add(4); // acct-1
    await lookup.find(a);
    await lookup.find(b);
    lookup.forgetAccount('platform', 'acct-0');
    expect((await lookup.find(a)).cached).toBe(false);
    expect((await lookup.find(b)).cached).toBe(true);
  });
});
