import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { KeyEnvironment } from '../strategies/api-key-format.js';

/**
 * One issued API key. Holds only a keyed hash of the key (with the pepper version it was made
 * with) and a display hint; the key itself is never stored.
 */
@Entity('api_keys')
@Index('UQ_api_keys_hash', ['keyHash'], { unique: true })
@Index('IDX_api_keys_account', ['realm', 'clientId', 'id'])
@Index('IDX_api_keys_expires_at', ['expiresAt'])
@Index('IDX_api_keys_changed_at', ['changedAt'])
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  realm: string;

  @Column({ name: 'client_id', type: 'varchar', length: 63 })
  clientId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 4 })
  environment: KeyEnvironment;

  @Column({ type: 'varchar', length: 40 })
  hint: string;

  @Column({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash: string;

  @Column({ name: 'pepper_version', type: 'integer' })
  pepperVersion: number;

  @Column({ type: 'simple-json' })
  scopes: string[];

  @Column({ name: 'ttl_days', type: 'integer' })
  ttlDays: number;

  @Column({ name: 'created_at', type: 'datetime' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'datetime' })
  expiresAt: Date;

  @Column({ name: 'last_used_at', type: 'datetime', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'use_count', type: 'integer', default: 0 })
  useCount: number;

  @Column({ name: 'revoked_at', type: 'datetime', nullable: true })
  revokedAt: Date | null;

  /** When the key-expiry job recorded the expiry (verification refuses by time before that). */
  @Column({ name: 'expired_at', type: 'datetime', nullable: true })
  expiredAt: Date | null;

  /** Warning thresholds (days before expiry) already announced, so none is sent twice. */
  @Column({ name: 'expiry_warnings', type: 'simple-json', default: '[]' })
  expiryWarnings: number[];

  /**
   * The scopes beyond its account's that were last reported for this key (sorted), so each excess
   * is audited once across instances and restarts; null when none was.
   */
  @Column({ name: 'reported_scope_excess', type: 'simple-json', nullable: true })
  reportedScopeExcess: string[] | null;

  @Column({ name: 'rotated_from_id', type: 'varchar', length: 40, nullable: true })
  rotatedFromId: string | null;

  /** Set on a key that was rotated: it stays valid (status `expiring`) until `expiresAt`. */
  @Column({ name: 'rotated_to_id', type: 'varchar', length: 40, nullable: true })
  rotatedToId: string | null;

  /**
   * When the key was issued or last changed in a way verification sees (revoked, rotated, expiry
   * shortened), in epoch milliseconds: every instance's key index reads the keys changed since its
   * last read. NULL on keys older than the column.
   */
  @Column({ name: 'changed_at', type: 'bigint', nullable: true })
  changedAt: number | null;
}
