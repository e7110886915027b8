import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { TtlCache } from '../../common/cache/ttl-cache.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { KeyIndex, type KeyRecord } from './key-index.js';
import { KeyRows } from './key-rows.js';

/** Rows per query of the start-up load and of a read of changes. */
const PAGE_SIZE = 5_000;
/**
 * A read of changes starts this long before the previous one did, so a change stamped before that
 * read but committed after it is still read; rows read twice change nothing.
 */
const CHANGE_OVERLAP_MS = 5_000;

export interface Lookup {
  record: KeyRecord | null;
  /** Answered from memory (the index or the cache), without a query. */
  cached: boolean;
}

/**
 * Finds a key's record by hash, from memory where it can:
 * - the index holds every live key within the memory budget, loaded page by page at start-up,
 *   and learns keys it meets later;
 * - beyond the budget, and for unknown, revoked or expired keys, a lookup is one query on the
 *   unique hash index, its answer cached for KEYSMITH_API_KEY_CACHE_TTL_MS (at most 5 s);
 * - every KEYSMITH_KEY_INDEX_POLL_MS the keys changed since the last read (issued, revoked,
 *   rotated, expiry shortened: `changed_at`) are read again, so a change made by another instance
 *   reaches this one within that interval. A change feed may also call `forgetKeyHash` and
 *   `refreshKey` directly.
 *
 * `changed_at` is stamped with the database's clock, and reads of changes start from the
 * database's time too (`KeyRows.databaseNowMs`), so instances whose clocks differ miss nothing.
 * The index learns keys only once that start is known: a key it holds is always one a read of
 * changes will see again if it changes.
 */
@Injectable()
export class KeyLookup implements BeforeApplicationShutdown {
  private readonly logger = new Logger(KeyLookup.name);
  readonly index: KeyIndex;
  private readonly cache: TtlCache<string, KeyRecord | null>;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  /** Where the next read of changes starts (epoch ms, the database's clock); null until it is read. */
  private changesFrom: number | null = null;
  private polling: Promise<void> | undefined;
  /** The start-up load: every live key read, or stopped at the budget (or the first read of changes failed). */
  loaded: Promise<void> = Promise.resolve();
  /** The load itself, started once the first read of changes knows where the next starts. */
  private loading: Promise<void> | undefined;
  /**
   * Forgets counted, and when each key was last forgotten while a read was under way: a read that
   * started before a key was forgotten (a revocation) may hold its old state, so it is not kept.
   * Held only while reads run.
   */
  private forgets = 0;
  private readonly forgottenAt = new Map<string, number>();
  private reads = 0;

  constructor(
    private readonly rows: KeyRows,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.index = new KeyIndex(config.apiKeys.keyIndexMemoryBytes);
    this.cache = new TtlCache(config.apiKeys.cacheSize, config.apiKeys.cacheTtlMs, () => this.clock.nowMs());
  }

  /** Starts the load of every live key and the periodic read of changes (once; the HTTP set-up calls it). */
  start(): void {
    if (this.started || this.index.maxKeys === 0) return;
    this.started = true;
    // The first read of changes only marks where the next starts and then starts the load (see
    // readChanges), so a change made while the load runs is read again. If the database's time
    // cannot be read yet, the next poll that reads it starts the load.
    this.loaded = this.pollChanges().then(() => {
      if (this.changesFrom === null) this.logger.error('the API key index is not loaded yet (the database time could not be read); keys are looked up by query until it can');
      return this.loading;
    });
    this.timer = setInterval(() => void this.pollChanges(), this.config.apiKeys.keyIndexPollMs);
    this.timer.unref();
  }

  /** Stops the poll and waits for a read under way (and the start-up load, which stops at its next page). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([this.polling, this.loaded, this.loading]);
  }

  /** What memory holds about a key (the index or the cache), without a query; undefined: nothing. */
  peek(hash: string): Lookup | undefined {
    const indexed = this.index.get(hash);
    if (indexed) return { record: indexed, cached: true };
    const cached = this.cache.get(hash);
    if (cached !== undefined) return { record: cached, cached: true };
    return undefined;
  }

  async find(hash: string): Promise<Lookup> {
    const held = this.peek(hash);
    if (held) return held;
    const record = await this.read(hash);
    return { record, cached: false };
  }

  /** Drops what is held about one key; the next lookup reads it again. */
  forgetKeyHash(hash: string): void {
    this.index.delete(hash);
    this.cache.delete(hash);
    this.forgets += 1;
    if (this.reads > 0) this.forgottenAt.set(hash, this.forgets);
  }

  /** Reads one key again now (after a change another instance announced). */
  async refreshKey(hash: string): Promise<void> {
    this.forgetKeyHash(hash);
    await this.read(hash);
  }

  /** Reads a key's row and keeps it, unless the key was forgotten while the read ran. */
  private async read(hash: string): Promise<KeyRecord | null> {
    const started = this.startRead();
    try {
      const record = await this.rows.byHash(hash);
      if (!this.forgottenSince(hash, started)) this.remember(hash, record);
      return record;
    } finally {
      this.endRead();
    }
  }

  /** Marks a read under way; answers the forget count it started at. */
  private startRead(): number {
    this.reads += 1;
    return this.forgets;
  }

  private endRead(): void {
    this.reads -= 1;
    if (this.reads === 0) this.forgottenAt.clear();
  }

  /** Was the key forgotten after a read that started at `started` (its state then may be gone)? */
  private forgottenSince(hash: string, started: number): boolean {
    return (this.forgottenAt.get(hash) ?? 0) > started;
  }

  /** Drops the cached lookups of an account's keys (the index holds nothing of the account but its name). */
  forgetAccount(realm: string, clientId: string): void {
    this.cache.deleteWhere((record) => record !== null && record.account.realm === realm && record.account.clientId === clientId);
  }

  /** Reads the keys changed since the last read and applies them; one read at a time. */
  pollChanges(): Promise<void> {
    this.polling ??= this.readChanges()
      .catch((error: unknown) => this.logger.warn(`could not read the changed API keys: ${(error as Error).message}`))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private remember(hash: string, record: KeyRecord | null): void {
    if (record && this.changesFrom !== null && this.isLive(record) && this.index.put(hash, record)) return;
    this.cache.set(hash, record);
  }

  private isLive(record: KeyRecord): boolean {
    return record.revokedAt === null && record.expiresAt > this.clock.nowMs();
  }

  /** Reads every live key not held yet, newest first, until the budget is reached. */
  async loadAll(): Promise<void> {
    const started = this.clock.nowMs();
    let beforeId: string | null = null;
    while (!this.stopped && !this.index.full) {
      const pageStarted = this.startRead();
      try {
        const page = await this.rows.livePage(this.clock.now(), beforeId, PAGE_SIZE);
        // A key refreshed meanwhile keeps its newer state, and one forgotten meanwhile (revoked) stays out.
        for (const { hash, record } of page) if (!this.index.get(hash) && !this.forgottenSince(hash, pageStarted)) this.index.put(hash, record);
        if (page.length < PAGE_SIZE) break;
        beforeId = page[page.length - 1].record.id;
      } finally {
        this.endRead();
      }
    }
    const note = this.index.full ? ` (memory budget reached at ${this.index.maxKeys}; further keys are looked up by query)` : '';
    this.logger.log(`API key index: ${this.index.size} live keys loaded in ${this.clock.nowMs() - started} ms${note}`);
  }

  private async readChanges(): Promise<void> {
    const readStart = await this.rows.databaseNowMs();
    if (this.changesFrom === null) {
      this.changesFrom = readStart;
      if (this.started) {
        this.loading = this.loadAll().catch((error: unknown) => this.logger.error({ err: error }, 'could not load the API key index; keys are looked up by query'));
      }
      return;
    }
    const since = this.changesFrom - CHANGE_OVERLAP_MS;
    let after: { changedAt: number; id: string } | null = null;
    for (;;) {
      const changes = await this.rows.changedSince(since, after, PAGE_SIZE);
      for (const { hash, record } of changes) {
        this.forgetKeyHash(hash);
        if (this.isLive(record)) this.index.put(hash, record);
      }
      if (changes.length < PAGE_SIZE) break;
      const last = changes[changes.length - 1];
      after = { changedAt: last.changedAt, id: last.id };
    }
    this.changesFrom = readStart;
  }
}
