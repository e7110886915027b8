import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig } from '../../config/app-config.js';

/**
 * The Redis of `KEYSMITH_REDIS_URL`, or none. Commands never wait for a connection (no offline
 * queue, no retry of a failed command) and time out after KEYSMITH_REDIS_TIMEOUT_MS, so a dead
 * Redis costs a request at most that long (and nothing once the breaker is open: RedisWindowCounter).
 * The client reconnects by itself in the background.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  readonly client: Redis | null;
  private readonly subscribers: Redis[] = [];
  private reportedDown = false;

  constructor(private readonly config: AppConfig) {
    const url = config.scaleOut.redisUrl;
    this.client = url ? this.watch(new Redis(url, this.options({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: config.scaleOut.redisTimeoutMs })), 'commands') : null;
  }

  /** A connection of its own for pub/sub (a subscribed connection takes no other command); it resubscribes after a reconnect. */
  subscriber(): Redis | null {
    const url = this.config.scaleOut.redisUrl;
    if (!url) return null;
    const subscriber = this.watch(new Redis(url, this.options({ enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true })), 'subscriber');
    this.subscribers.push(subscriber);
    return subscriber;
  }

  async onApplicationShutdown(): Promise<void> {
    for (const connection of [this.client, ...this.subscribers]) connection?.disconnect(false);
  }

  private options(extra: RedisOptions): RedisOptions {
    return {
      connectTimeout: 2_000,
      // Reconnect quickly at first, then every 2 s at most.
      retryStrategy: (times) => Math.min(times * 100, 2_000),
      lazyConnect: false,
      ...extra,
    };
  }

  /** Logs the first failure of a connection and its recovery (not every retry); the URL, which may hold a password, never. */
  private watch(connection: Redis, role: string): Redis {
    connection.on('error', (error: Error) => {
      if (this.reportedDown) return;
      this.reportedDown = true;
      this.logger.warn(`Redis (${role}) unreachable: ${error.message}; limits fall back as configured until it answers again`);
    });
    connection.on('ready', () => {
      if (!this.reportedDown) return;
      this.reportedDown = false;
      this.logger.log(`Redis (${role}) reachable again`);
    });
    return connection;
  }
}
