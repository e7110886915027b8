import { Logger } from '@nestjs/common';
import pg from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { RedisConnection } from '../redis/redis-connection.js';

/** PostgreSQL channel and Redis channel on which a publication wakes the other instances. */
export const CHANGES_CHANNEL = 'keysmith_changes';

/**
 * What wakes an instance to read the change feed before its next poll. Wake-ups carry nothing:
 * the rows are read from the database, so a lost wake-up delays a change by one poll at most, and
 * after a reconnect the instance reads everything it missed.
 */
export interface ChangeSignal {
  readonly name: 'redis' | 'postgres' | 'poll';
  start(wake: () => void): void;
  /** After a commit that recorded changes. */
  notify(): void;
  stop(): Promise<void>;
}

/** SQLite: the poll alone. */
export class PollOnlySignal implements ChangeSignal {
  readonly name = 'poll';
  start(): void {}
  notify(): void {}
  async stop(): Promise<void> {}
}

/** Redis pub/sub on a connection of its own; ioredis reconnects and resubscribes, and each `ready` reads what was missed. */
export class RedisChangeSignal implements ChangeSignal {
  readonly name = 'redis';
  private subscriber: ReturnType<RedisConnection['subscriber']> = null;

  constructor(private readonly connection: RedisConnection) {}

  start(wake: () => void): void {
    this.subscriber = this.connection.subscriber();
    if (!this.subscriber) return;
    this.subscriber.on('message', () => wake());
    this.subscriber.on('ready', () => wake());
    this.subscriber.subscribe(CHANGES_CHANNEL).catch(() => undefined);
  }

  notify(): void {
    this.connection.client?.publish(CHANGES_CHANNEL, '').catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect(false);
  }
}

/**
 * PostgreSQL LISTEN on a dedicated connection (never a pooled one: a pooled connection goes back
 * to the pool and stops listening; PgBouncer in transaction mode cannot hold it either). The
 * NOTIFY is sent inside the publishing transaction (ChangeFeed.record), so it fires at commit.
 * A lost connection is made again after 1 s, then every 5 s at most, and each (re)connection is
 * followed by a read of everything missed.
 */
export class PostgresChangeSignal implements ChangeSignal {
  readonly name = 'postgres';
  private readonly logger = new Logger(PostgresChangeSignal.name);
  private client?: pg.Client;
  private retryTimer?: NodeJS.Timeout;
  private attempts = 0;
  private stopped = false;

  constructor(private readonly options: DataSourceOptions) {}

  start(wake: () => void): void {
    this.stopped = false;
    void this.connect(wake);
  }

  notify(): void {}

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(wake: () => void): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(pgConnectionConfig(this.options));
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      if (this.attempts === 0) this.logger.warn(`change notifications lost (${error?.message ?? 'connection ended'}); reconnecting, polling meanwhile`);
      this.attempts += 1;
      this.retryTimer = setTimeout(() => void this.connect(wake), Math.min(1_000 * this.attempts, 5_000));
      this.retryTimer.unref();
    };
    this.client = client;
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', () => wake());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (this.attempts > 0) this.logger.log('change notifications restored');
      this.attempts = 0;
      wake();
    } catch (error) {
      lost(error as Error);
    }
  }
}

/** The pg connection settings of TypeORM's PostgreSQL options. */
export function pgConnectionConfig(options: DataSourceOptions): pg.ClientConfig {
  const o = options as DataSourceOptions & { url?: string; host?: string; port?: number; username?: string; password?: string; database?: string; ssl?: pg.ClientConfig['ssl'] };
  return {
    ...(o.url ? { connectionString: o.url } : {}),
    ...(o.host ? { host: o.host } : {}),
    ...(o.port ? { port: o.port } : {}),
    ...(o.username ? { user: o.username } : {}),
    ...(o.password ? { password: o.password } : {}),
    ...(o.database ? { database: o.database } : {}),
    ...(o.ssl !== undefined ? { ssl: o.ssl } : {}),
    application_name: 'keysmith-changes',
    keepAlive: true,
  };
}
