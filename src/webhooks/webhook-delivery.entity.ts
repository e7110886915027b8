import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One attempt to deliver one event to one URL. */
@Entity('webhook_deliveries')
@Index('IDX_webhook_deliveries_event', ['eventId'])
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

  @Column({ type: 'datetime' })
  at: Date;
}
