import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * `pending`: waits for `nextAttemptAt`; `sending`: claimed by a worker until `claimExpiresAt`;
 * `done`: attempted (see `delivered`, `status`, `error`).
 */
export type DeliveryState = 'pending' | 'sending' | 'done';

/**
 * One attempt to deliver one event to one URL: the webhook outbox. Publishing writes the first
 * attempt `pending`; the worker claims it, sends it, marks it `done` and, when it failed and
 * attempts remain, writes the next attempt `pending` at its backoff time.
 */
@Entity('webhook_deliveries')
@Index('IDX_webhook_deliveries_event', ['eventId'])
@Index('IDX_webhook_deliveries_due', ['state', 'nextAttemptAt'])
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'event_id', type: 'varchar', length: 40 })
  eventId: string;

  @Column({ type: 'varchar', length: 60 })
  event: string;

  @Column({ type: 'varchar', length: 500 })
  url: string;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ type: 'integer', nullable: true })
  status: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  error: string | null;

  @Column({ type: 'boolean' })
  delivered: boolean;

  /** When the attempt was written; once done, when it was sent. */
  @Column({ type: 'datetime' })
  at: Date;

  @Column({ type: 'varchar', length: 10, default: 'done' })
  state: DeliveryState;

  /** The JSON sent (`{ id, type, at, data }`); null on attempts recorded before the outbox. */
  @Column({ type: 'text', nullable: true })
  body: string | null;

  /** Epoch milliseconds (injected clock) from which a pending attempt may be sent. */
  @Column({ name: 'next_attempt_at', type: 'bigint', nullable: true })
  nextAttemptAt: number | null;

  /** The claim token of the worker sending it. */
  @Column({ name: 'claimed_by', type: 'varchar', length: 40, nullable: true })
  claimedBy: string | null;

  /** Epoch milliseconds after which a claim is stale (its worker died) and may be taken over. */
  @Column({ name: 'claim_expires_at', type: 'bigint', nullable: true })
  claimExpiresAt: number | null;
}
