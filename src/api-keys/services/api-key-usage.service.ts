import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { toSqliteDatetime } from './sqlite-time.js';
import { UsageBuffer } from './usage-buffer.js';

/**
 * Records `lastUsedAt` and the use count of keys without a database write per verification:
 * uses are aggregated in memory and written in one transaction every KEYSMITH_API_KEY_USAGE_FLUSH_MS
 * and when the application shuts down (before the database connection closes). A crash loses at
 * most one interval of usage data, never a key.
 */
@Injectable()
export class ApiKeyUsageService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsageService.name);
  private readonly buffer = new UsageBuffer();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flushUsage().catch(() => undefined), this.config.apiKeys.usageFlushMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushUsage();
  }

  record(keyId: string, at: Date): void {
    this.buffer.record(keyId, at);
  }

  /** Writes every pending use now; returns how many keys were updated. */
  async flushUsage(): Promise<number> {
    if (this.flushing) await this.flushing.catch(() => undefined);
    if (this.buffer.size === 0) return 0;
    const batch = this.buffer.drain();
    this.flushing = this.dataSource
      .transaction(async (manager) => {
        for (const [keyId, usage] of batch) {
          const at = toSqliteDatetime(usage.lastUsedAt);
          await manager.query(
            `UPDATE "api_keys" SET "use_count" = "use_count" + ?,
               "last_used_at" = CASE WHEN "last_used_at" IS NULL OR "last_used_at" < ? THEN ? ELSE "last_used_at" END
             WHERE "id" = ?`,
            [usage.uses, at, at, keyId],
          );
        }
        return batch.size;
      })
      .catch((error: unknown) => {
        this.buffer.restore(batch);
        this.logger.error({ err: error }, `could not write the usage of ${batch.size} API keys; will retry`);
        throw error;
      });
    try {
      return await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }
}
