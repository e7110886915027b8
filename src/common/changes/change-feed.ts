import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { Histogram } from 'prom-client';
import { DataSource, LessThan, MoreThan, Repository, type EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { InstanceId } from '../leases/instance-id.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { Clock } from '../time/clock.js';
import type { Change, ChangeListener, Delivery } from './change.js';
import { ChangeCursor } from './change-cursor.js';
import { ChangeEntity } from './change.entity.js';
import { CHANGES_CHANNEL, PollOnlySignal, PostgresChangeSignal, RedisChangeSignal, type ChangeSignal } from './change-signals.js';

/** Rows are kept this long; an instance that could not read for longer drops everything it cached. */
const RETENTION_MS = 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 1000;
/** A number taken by a transaction that has not committed is waited for this long (PostgreSQL). */
const GAP_WAIT_MS = 10_000;
const BATCH = 500;

/**
 * The change feed: every event that makes a cache stale (change.ts) is recorded once in the
 * `changes` table, in the transaction of the change where there is one, delivered at once to the
 * listeners of this instance, and read by every other instance, which delivers it to its own.
 * Instances read `WHERE seq > last` when woken (Redis pub/sub with KEYSMITH_REDIS_URL, else
 * PostgreSQL LISTEN/NOTIFY, see change-signals.ts) and every KEYSMITH_CHANGES_POLL_MS (1 s) in
 * any case: on SQLite the poll is the only way. Each instance prunes rows older than an hour.
 */
@Injectable()
export class ChangeFeed implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ChangeFeed.name);
  private readonly listeners: ChangeListener[] = [];
  private readonly signal: ChangeSignal;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly delay: Histogram<'signal'>;
  private cursor?: ChangeCursor;
  private reading?: Promise<void>;
  private again = false;
  private lastReadAt = 0;
  private failing = false;

  constructor(
    @InjectRepository(ChangeEntity) private readonly changes: Repository<ChangeEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly instance: InstanceId,
    redis: RedisConnection,
    config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    this.pollMs = config.scaleOut.changesPollMs;
    this.signal = redis.client ? new RedisChangeSignal(redis) : this.postgres ? new PostgresChangeSignal(dataSource.options) : new PollOnlySignal();
    this.delay = metrics.histogram(
      'keysmith_change_feed_delay_seconds',
      'Time from a change published on another instance to its delivery here, by what woke the reader',
      ['signal'],
      [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    );
  }

  private readonly pollMs: number;

  /** How changes reach this instance besides the poll: redis, postgres or poll. */
  get signalName(): ChangeSignal['name'] {
    return this.signal.name;
  }

  subscribe(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `work` and records the changes it reports (`changed(...)`) with it: in one transaction on
   * PostgreSQL (the change and its rows commit together). On SQLite every caller shares one
   * connection, so a transaction would take in (and a rollback undo) other callers' writes: there
   * `work` runs on its own and the rows are written right after it succeeds (if that write fails,
   * other instances see the change within their cache lifetime). After the work, the changes are
   * delivered here and the other instances are woken; `work` that throws records nothing.
   */
  async transaction<T>(work: (manager: EntityManager, changed: (...changes: Change[]) => void) => Promise<T>): Promise<T> {
    const changes: Change[] = [];
    const changed = (...more: Change[]) => void changes.push(...more);
    let result: T;
    if (this.postgres) {
      result = await this.dataSource.transaction(async (manager) => {
        const value = await work(manager, changed);
        await this.record(manager, changes);
        return value;
      });
    } else {
      result = await work(this.dataSource.manager, changed);
      await this.recordOrLog(changes);
    }
    this.announce(changes);
    return result;
  }

  /**
   * Publishes changes whose cause is committed already (a Keycloak call and its row). If the
   * record cannot be written, other instances see the change within their cache lifetime.
   */
  async publish(...changes: Change[]): Promise<void> {
    await this.recordOrLog(changes);
    this.announce(changes);
  }

  private async recordOrLog(changes: Change[]): Promise<void> {
    try {
      await this.record(this.dataSource.manager, changes);
    } catch (error) {
      this.logger.error({ err: error }, 'could not record a change; other instances see it within their cache lifetime');
    }
  }

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    await this.signal.stop();
    await this.reading;
  }

  /** Reads now (and once more if a read is under way); resolves when this instance has caught up. */
  async catchUp(): Promise<void> {
    this.kick();
    while (this.reading) await this.reading;
  }

  private async start(): Promise<void> {
    const raw = (await this.changes.createQueryBuilder('c').select('MAX(c.seq)', 'max').getRawOne()) as { max: number | string | null } | undefined;
    this.cursor = new ChangeCursor(Number(raw?.max ?? 0), GAP_WAIT_MS);
    this.lastReadAt = this.clock.nowMs();
    this.every(this.pollMs, () => this.kick());
    this.every(PRUNE_EVERY_MS, () => void this.prune());
    this.signal.start(() => this.kick());
  }

  private every(ms: number, tick: () => void): void {
    const timer = setInterval(tick, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private get postgres(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  private async record(manager: EntityManager, changes: Change[]): Promise<void> {
    if (changes.length === 0) return;
    const at = this.clock.nowMs();
    const rows = changes.map((change) => ({
      kind: change.kind,
      realm: change.realm,
      clientId: change.clientId,
      keyId: change.kind === 'key' ? change.keyId : null,
      keyHash: change.kind === 'key' ? change.keyHash : null,
      origin: this.instance.value,
      at,
    }));
    await manager.insert(ChangeEntity, rows);
    // Sent at commit, to every listening instance, only if the transaction commits.
    if (this.postgres && this.signal.name === 'postgres') await manager.query(`NOTIFY ${CHANGES_CHANNEL}`);
  }

  private announce(changes: Change[]): void {
    for (const change of changes) this.deliver(change);
    if (changes.length > 0) this.signal.notify();
  }

  private deliver(change: Delivery): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ err: error }, `change listener failed on a ${change.kind} change`);
      }
    }
  }

  private kick(): void {
    if (!this.cursor) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readWhileAsked().finally(() => (this.reading = undefined));
  }

  private async readWhileAsked(): Promise<void> {
    do {
      this.again = false;
      try {
        if ((await this.read()) === BATCH) this.again = true;
      } catch (error) {
        if (!this.failing) this.logger.warn({ err: error }, 'could not read the change feed; retrying at the next poll');
        this.failing = true;
        return;
      }
    } while (this.again);
  }

  private async read(): Promise<number> {
    const cursor = this.cursor!;
    const rows = await this.changes.find({ where: { seq: MoreThan(cursor.from) }, order: { seq: 'ASC' }, take: BATCH });
    const now = this.clock.nowMs();
    if (now - this.lastReadAt > RETENTION_MS - PRUNE_EVERY_MS) {
      this.logger.warn('the change feed was out of reach longer than it keeps changes: dropping every cached verification and token');
      this.deliver({ kind: 'all' });
    }
    this.lastReadAt = now;
    this.failing = false;
    const fresh = new Set(cursor.accept(rows.map((row) => row.seq), now));
    for (const row of rows) {
      if (!fresh.has(row.seq) || row.origin === this.instance.value) continue;
      this.deliver(toChange(row));
      this.delay.observe({ signal: this.signal.name }, Math.max(0, now - row.at) / 1000);
    }
    return rows.length;
  }

  /** Deletes rows older than an hour (every instance does it once a minute). */
  async prune(): Promise<void> {
    try {
      await this.changes.delete({ at: LessThan(this.clock.nowMs() - RETENTION_MS) });
    } catch (error) {
      this.logger.warn({ err: error }, 'could not prune the change feed');
    }
  }
}

function toChange(row: ChangeEntity): Change {
  if (row.kind === 'key') return { kind: 'key', keyId: row.keyId ?? '', keyHash: row.keyHash ?? '', realm: row.realm, clientId: row.clientId };
  return { kind: 'account', realm: row.realm, clientId: row.clientId };
}
