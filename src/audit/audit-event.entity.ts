import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ActorType } from '../common/context/actor.js';

export type Outcome = 'success' | 'failure';

/** One recorded action. Never holds a secret, a key or a token. */
@Entity('audit_events')
@Index('IDX_audit_action', ['action', 'id'])
@Index('IDX_audit_realm_client', ['realm', 'clientId', 'id'])
@Index('IDX_audit_owner', ['owner', 'id'])
export class AuditEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'datetime' })
  at: Date;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: ActorType;

  @Column({ name: 'actor_id', type: 'varchar', length: 200, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 80 })
  action: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  realm: string | null;

  @Column({ name: 'client_id', type: 'varchar', length: 100, nullable: true })
  clientId: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  target: string | null;

  @Column({ type: 'varchar', length: 10 })
  outcome: Outcome;

  @Column({ type: 'simple-json', nullable: true })
  detail: Record<string, unknown> | null;

  /** The owner the event belongs to; owner-bound callers see only their owner's events. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  owner: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;
}
