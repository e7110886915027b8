import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { Sql, type SqlDialect } from '../../database/sql.js';
import type { UsageCounted } from './key-index.js';
import { UsageBuffer, type KeyUsage } from './usage-buffer.js';

/** Keys written by one statement. */
const USAGE_BATCH = 1000;

/**
 * The statement that adds a batch of uses (one JSON parameter, `[[id, uses, lastUsedMs], ...]`):
 * each key's use count grows by its uses, and its last use moves forward only (an older time, from
 * another instance's later flush, leaves it). SQLite keeps times as UTC text to the millisecond
 * (see `Sql.time`), which `strftime` writes from epoch milliseconds.
 */
function usageUpdate(dialect: SqlDialect): string {
  const uses =
    dialect === 'postgres'
      ? `SELECT "e"->>0 AS "id", CAST("e"->>1 AS integer) AS "n", to_timestamp(CAST("e"->>2 AS bigint) / 1000.0) AS "at"
         FROM jsonb_array_elements(CAST(? AS jsonb)) AS "e"`
      : `SELECT json_extract("value", '$[0]') AS "id", json_extract("value", '$[1]') AS "n",
           strftime('%Y-%m-%d %H:%M:%f', json_extract("value", '$[2]') / 1000.0, 'unixepoch') AS "at"
         FROM json_each(?)`;
  return `WITH "u" AS (${uses})
    UPDATE "api_keys" SET
      "use_count" = "api_keys"."use_count" + "u"."n",
      "last_used_at" = CASE WHEN "api_keys"."last_used_at" IS NULL OR "api_keys"."last_used_at" < "u"."at" THEN "u"."at" ELSE "api_keys"."last_used_at" END
    FROM "u" WHERE "u"."id" = "api_keys"."id"`;
}

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
  private readonly sql: Sql;
  private readonly update: string;

  constructor(
    dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    this.sql = new Sql(dataSource);
    this.update = usageUpdate(this.sql.dialect);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flushUsage().catch(() => undefined), this.config.apiKeys.usageFlushMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushUsage();
  }

  /** A use of the key at `atMs` (epoch milliseconds), counted on its record (see UsageBuffer). */
  record(key: UsageCounted, atMs: number): void {
    this.buffer.record(key, atMs);
  }

  /**
   * One UPDATE per 1,000 keys, each atomic on its own: no explicit transaction, which on SQLite's
   * single connection would interleave with other features' transactions. The keys travel as one
   * JSON parameter (`[[id, uses, lastUsedMs], ...]`), read by the database (`json_each` on SQLite,
   * `jsonb_array_elements` on PostgreSQL) and joined to their rows by primary key: the statement's
   * text is the same for every batch, so the process neither builds a long VALUES list nor binds
   * three parameters per key, nor formats a time per key (100,000 keys cycled: about 3 µs of every
   * verification's CPU went to these writes, with 500 keys a statement).
   */
  private async write(batch: Map<string, KeyUsage>): Promise<void> {
    const entries = [...batch];
    for (let i = 0; i < entries.length; i += USAGE_BATCH) {
      const chunk = entries.slice(i, i + USAGE_BATCH);
      await this.sql.run(this.update, [JSON.stringify(chunk.map(([keyId, usage]) => [keyId, usage.uses, usage.lastUsedAt]))]);
      // Written: a later failure must not put these back and count them twice.
      for (const [keyId] of chunk) batch.delete(keyId);
    }
  }

  /** Writes every pending use now; returns how many keys were updated. */
  async flushUsage(): Promise<number> {
    if (this.flushing) await this.flushing.catch(() => undefined);
    if (this.buffer.size === 0) return 0;
    const batch = this.buffer.drain();
    const size = batch.size;
    this.flushing = this.write(batch)
      .then(() => size)
      .catch((error: unknown) => {
        this.buffer.restore(batch);
        this.logger.error({ err: error }, `could not write the usage of ${batch.size} of ${size} API keys; will retry`);
        throw error;
      });
    try {
      return await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }
}
