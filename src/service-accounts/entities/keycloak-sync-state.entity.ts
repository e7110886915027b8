import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { EventCursorState } from '../../keycloak/index.js';

/**
 * Where following one realm's Keycloak changes stands, shared by every instance (whichever holds
 * the sync lease continues from here): the admin-event cursor and the last sweep.
 */
@Entity('keycloak_sync_state')
export class KeycloakSyncStateEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  realm: string;

  /** `events` or `sweep`: how the realm was followed last. */
  @Column({ type: 'varchar', length: 10 })
  mode: 'events' | 'sweep';

  /** The admin-event cursor (EventCursorState); null before the first poll and while events are off. */
  @Column({ name: 'event_cursor', type: 'simple-json', nullable: true })
  eventCursor: EventCursorState | null;

  /** The last complete sweep, epoch ms on Keysmith's clock. */
  @Column({ name: 'last_sweep_at', type: 'bigint', nullable: true })
  lastSweepAt: string | null;

  @Column({ name: 'updated_at', type: 'bigint' })
  updatedAt: string;
}
