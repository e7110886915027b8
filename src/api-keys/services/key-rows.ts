import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { readTime, Sql } from '../../database/sql.js';
import { ApiKeyEntity } from '../entities/api-key.entity.js';
import type { KeyRecord } from './key-index.js';

/** A key's record with its hash, as the index loads it. */
export interface HashedKeyRecord {
  hash: string;
  record: KeyRecord;
}

/** A changed key, with where the next read of changes goes on from. */
export interface ChangedKeyRecord extends HashedKeyRecord {
  changedAt: number;
  id: string;
}

interface RawKeyRow {
  id: string;
  key_hash: string;
  realm: string;
  client_id: string;
  scopes: string;
  expires_at: string | Date;
  revoked_at: string | Date | null;
  changed_at?: string | number | null;
}

const COLUMNS = ['k.id AS id', 'k.key_hash AS key_hash', 'k.realm AS realm', 'k.client_id AS client_id', 'k.scopes AS scopes', 'k.expires_at AS expires_at', 'k.revoked_at AS revoked_at'];

/**
 * The reads of verification: one key by hash (a lookup the index could not answer), the live keys
 * page by page (the index's start-up load), and the keys changed since a time (what the index
 * reads every KEYSMITH_KEY_INDEX_POLL_MS). Every read turns rows into records in one place.
 */
@Injectable()
export class KeyRows {
  private readonly sql: Sql;

  constructor(private readonly dataSource: DataSource) {
    this.sql = new Sql(dataSource);
  }

  /** The database's current time (epoch ms): where a read of changes starts, on the clock that stamped them. */
  databaseNowMs(): Promise<number> {
    return this.sql.nowMs();
  }

  async byHash(hash: string): Promise<KeyRecord | null> {
    const rows = await this.sql.rows<RawKeyRow>(
      `SELECT "id", "key_hash", "realm", "client_id", "scopes", "expires_at", "revoked_at" FROM "api_keys" WHERE "key_hash" = ?`,
      [hash],
    );
    return rows[0] ? recordOf(rows[0]) : null;
  }

  /** Up to `limit` live keys with an id below `beforeId` (newest first), so the newest keys load first. */
  async livePage(now: Date, beforeId: string | null, limit: number): Promise<HashedKeyRecord[]> {
    const query = this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .select(COLUMNS)
      .where('k.revokedAt IS NULL AND k.expiresAt > :now', { now })
      .orderBy('k.id', 'DESC')
      .limit(limit);
    if (beforeId) query.andWhere('k.id < :beforeId', { beforeId });
    const rows = await query.getRawMany<RawKeyRow>();
    return rows.map((row) => ({ hash: row.key_hash, record: recordOf(row) }));
  }

  /** Keys changed at or after `sinceMs`, in change order, continuing after `after` when given. */
  async changedSince(sinceMs: number, after: { changedAt: number; id: string } | null, limit: number): Promise<ChangedKeyRecord[]> {
    const query = this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .select([...COLUMNS, 'k.changed_at AS changed_at'])
      .where('k.changedAt >= :sinceMs', { sinceMs })
      .orderBy('k.changedAt', 'ASC')
      .addOrderBy('k.id', 'ASC')
      .limit(limit);
    if (after) query.andWhere('(k.changedAt > :at OR (k.changedAt = :at AND k.id > :id))', { at: after.changedAt, id: after.id });
    const rows = await query.getRawMany<RawKeyRow>();
    return rows.map((row) => ({ hash: row.key_hash, record: recordOf(row), changedAt: Number(row.changed_at), id: row.id }));
  }
}

/**
 * `changed_at` for a write, as TypeORM's raw-SQL value: the database's clock, never the writing
 * instance's, so a reader whose clock differs still finds the change (see `KeyLookup`).
 */
export function changeStamp(db: DataSource): () => string {
  const expression = new Sql(db).epochMs;
  return () => expression;
}

function timeOf(value: string | Date): number {
  return (value instanceof Date ? value : readTime(value)).getTime();
}

export function recordOf(row: RawKeyRow): KeyRecord {
  return {
    id: row.id,
    account: { realm: row.realm, clientId: row.client_id },
    scopes: JSON.parse(row.scopes) as string[],
    expiresAt: timeOf(row.expires_at),
    revokedAt: row.revoked_at ? timeOf(row.revoked_at) : null,
    uses: 0,
    lastUse: 0,
  };
}
