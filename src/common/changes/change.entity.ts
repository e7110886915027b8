import { Column, Entity, Index, PrimaryGeneratedColumn, type ValueTransformer } from 'typeorm';

/** PostgreSQL returns bigint as a string; epoch milliseconds fit a JavaScript number. */
const epochMs: ValueTransformer = { to: (value: number) => value, from: (value: string | number) => Number(value) };

/**
 * One row per published change (see change.ts), numbered by `seq` in commit order on SQLite (one
 * writer) and in allocation order on PostgreSQL (the reader waits for gaps: change-cursor.ts).
 * Rows are pruned after an hour. No secret: a key's hash is the lookup id every instance stores.
 */
@Entity('changes')
@Index('IDX_changes_at', ['at'])
export class ChangeEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  seq: number;

  @Column({ type: 'varchar', length: 10 })
  kind: 'key' | 'account';

  @Column({ type: 'varchar', length: 100 })
  realm: string;

  @Column({ name: 'client_id', type: 'varchar', length: 63 })
  clientId: string;

  @Column({ name: 'key_id', type: 'varchar', length: 40, nullable: true })
  keyId: string | null;

  @Column({ name: 'key_hash', type: 'varchar', length: 64, nullable: true })
  keyHash: string | null;

  /** The instance that published it (it delivered the change to itself already). */
  @Column({ type: 'varchar', length: 100 })
  origin: string;

  /** Epoch milliseconds (injected clock) of the publication. */
  @Column({ type: 'bigint', transformer: epochMs })
  at: number;
}
