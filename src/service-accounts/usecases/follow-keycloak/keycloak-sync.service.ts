import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import type { Counter, Gauge } from 'prom-client';
import { systemContext } from '../../../common/context/operation-context.js';
import { DomainError } from '../../../common/errors/domain-error.js';
import { Leases } from '../../../common/leases/index.js';
import { MetricsRegistry } from '../../../common/metrics/metrics.registry.js';
import { Clock } from '../../../common/time/clock.js';
import { AppConfig } from '../../../config/app-config.js';
import { Sql } from '../../../database/sql.js';
import { meterKeycloakCalls, readEvents, startCursor, SWEEP_PAGE_SIZE, type CursorRead } from '../../../keycloak/index.js';
import { KeycloakSyncStateEntity } from '../../entities/keycloak-sync-state.entity.js';
import { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { KeycloakChanges } from '../../ports/keycloak-changes.port.js';
import { ObserveAccountUseCase } from './observe-account.usecase.js';
import { EventFollower } from './event-follower.js';

const LEASE = 'keycloak-sync';
const EVENT_PAGE_SIZE = 200;
const EVENT_MAX_PAGES = 25;

/** What one realm's sync did: its mode, and the Keycloak calls it took. */
export interface RealmSyncResult {
  realm: string;
  mode: 'events' | 'sweep';
  swept: boolean;
  events: number;
  calls: number;
}

/**
 * Follows changes made in Keycloak behind Keysmith's back, so that keys follow their client within
 * KEYSMITH_KEYCLOAK_SYNC_BOUND_SECONDS (60 s by default). One instance at a time polls (the lease
 * `keycloak-sync` in the shared lease table); the cursor lives in the database, so another
 * instance continues where one stopped. Per realm: with admin events on, it pages through the
 * events since its cursor and re-reads the clients they touch (a realm-wide scope change, a gap
 * left by Keycloak's retention and a periodic safety net make it sweep); with events off, it
 * sweeps: every client of the realm, page by page.
 */
@Injectable()
export class KeycloakSyncService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(KeycloakSyncService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly calls: Counter<'realm' | 'mode'>;
  private readonly modeGauge: Gauge<'realm'>;
  private readonly lastSuccess: Gauge<'realm'>;

  constructor(
    @InjectRepository(KeycloakSyncStateEntity) private readonly states: Repository<KeycloakSyncStateEntity>,
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly changes: KeycloakChanges,
    private readonly observe: ObserveAccountUseCase,
    private readonly follower: EventFollower,
    private readonly leases: Leases,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    this.calls = metrics.counter('keysmith_keycloak_sync_calls_total', 'Keycloak calls made to follow changes made in Keycloak, by realm and mode', ['realm', 'mode']);
    this.modeGauge = metrics.gauge('keysmith_keycloak_sync_events', 'Whether a realm is followed through admin events (1) or by sweeping its clients (0)', ['realm']);
    this.lastSuccess = metrics.gauge('keysmith_keycloak_sync_last_success_seconds', 'Unix time of the last complete sync of a realm with Keycloak', ['realm']);
  }

  /** Time between two polls of a realm with admin events: a third of what the bound leaves after the verification cache. */
  get eventIntervalMs(): number {
    return Math.max(1_000, Math.floor((this.config.keycloakSync.boundMs - this.config.apiKeys.cacheTtlMs - 1_000) / 3));
  }

  /** Time between two sweeps of a realm without admin events: half of what the bound leaves. */
  get sweepIntervalMs(): number {
    return Math.max(1_000, Math.floor((this.config.keycloakSync.boundMs - this.config.apiKeys.cacheTtlMs - 1_000) / 2));
  }

  onApplicationBootstrap(): void {
    if (!this.config.keycloakSync.enabled) return;
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One round over every managed realm under the lease; false when another instance holds it. */
  async syncOnce(): Promise<RealmSyncResult[] | false> {
    const results: RealmSyncResult[] = [];
    const ttlMs = Math.max(30_000, this.config.keycloakSync.boundMs);
    const ran = await this.leases.tryRun(LEASE, ttlMs, async (fence) => {
      for (const realm of this.config.managedRealms) {
        await fence.check(`sync realm ${realm}`);
        try {
          const result = await this.syncRealm(realm);
          if (result) results.push(result);
        } catch (error) {
          this.logger.warn(`Keycloak sync of realm ${realm} failed: ${error instanceof DomainError ? `${error.code}: ${error.detail}` : (error as Error).message}`);
        }
      }
    });
    return ran ? results : false;
  }

  /** Syncs one realm if its next poll or sweep is due; null when nothing was due. */
  async syncRealm(realm: string, force = false): Promise<RealmSyncResult | null> {
    const state = (await this.states.findOneBy({ realm })) ?? this.states.create({ realm, mode: 'sweep', eventCursor: null, lastSweepAt: null, updatedAt: '0' });
    const now = this.clock.nowMs();
    // Sweeps are stamped and judged on the database's clock, which every instance shares.
    const sweepNow = await new Sql(this.states.manager.connection).sharedNowMs(this.clock);
    const { result: outcome, calls } = await meterKeycloakCalls(async () => {
      const settings = this.config.keycloakSync.mode === 'sweep' ? null : await this.changes.eventSettings(realm);
      if (settings?.adminEventsEnabled) return this.followEvents(realm, state, settings.retentionMs, now, sweepNow, force);
      const due = force || elapsedAtLeast(sweepNow, state.lastSweepAt, this.sweepIntervalMs) || state.mode !== 'sweep';
      if (due) await this.sweep(realm);
      return due ? { mode: 'sweep' as const, swept: true, events: 0, cursor: null } : null;
    });
    this.calls.inc({ realm, mode: outcome?.mode ?? state.mode }, calls);
    if (!outcome) return null;
    await this.states.save({
      realm,
      mode: outcome.mode,
      eventCursor: outcome.cursor,
      lastSweepAt: outcome.swept ? String(sweepNow) : state.lastSweepAt,
      updatedAt: String(now),
    });
    this.modeGauge.set({ realm }, outcome.mode === 'events' ? 1 : 0);
    this.lastSuccess.set({ realm }, Math.floor(now / 1000));
    return { realm, mode: outcome.mode, swept: outcome.swept, events: outcome.events, calls };
  }

  private async followEvents(realm: string, state: KeycloakSyncStateEntity, retentionMs: number | null, now: number, sweepNow: number, force: boolean) {
    const cursor = state.mode === 'events' ? state.eventCursor : null;
    if (cursor && !force && cursor.polledAt !== null && now - cursor.polledAt < this.eventIntervalMs && now >= cursor.polledAt) return null;
    const read: CursorRead = cursor
      ? await readEvents(cursor, (from, first, max) => this.changes.adminEvents(realm, from, first, max), now, {
          overlapMs: this.config.keycloakSync.overlapMs,
          pageSize: EVENT_PAGE_SIZE,
          maxPages: EVENT_MAX_PAGES,
          retentionMs,
        })
      : startCursor(await this.changes.newestAdminEvent(realm), now);
    const safetyDue = this.config.keycloakSync.safetySweepMs > 0 && elapsedAtLeast(sweepNow, state.lastSweepAt, this.config.keycloakSync.safetySweepMs);
    const { sweep } = await this.follower.follow(realm, read.events, systemContext('job', 'keycloak-sync'));
    const swept = read.gap || safetyDue || sweep;
    if (swept) await this.sweep(realm);
    return { mode: 'events' as const, swept, events: read.events.length, cursor: read.next };
  }

  /** Every managed client of the realm against its account: existence, enabled flag, scopes, secret. */
  async sweep(realm: string): Promise<void> {
    const context = systemContext('job', 'keycloak-sync');
    const rows = await this.accounts.find({ where: { realm, deletedAt: IsNull(), state: In(['ready']) } });
    const byClient = new Map(rows.filter((row) => row.keycloakId).map((row) => [row.keycloakId!, row]));
    const seen = new Set<string>();
    for (let first = 0; ; first += SWEEP_PAGE_SIZE) {
      const page = await this.changes.managedClientsPage(realm, first, SWEEP_PAGE_SIZE);
      for (const client of page.clients) {
        const row = byClient.get(client.id);
        if (!row) continue;
        seen.add(client.id);
        await this.observeSafely(() => this.observe.fromSnapshot(context, row, client), row);
      }
      if (page.fetched < SWEEP_PAGE_SIZE) break;
    }
    for (const [id, row] of byClient) {
      if (!seen.has(id)) await this.observeSafely(() => this.observe.fromSnapshot(context, row, undefined), row);
    }
  }

  private async observeSafely(work: () => Promise<unknown>, row: ServiceAccountEntity): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.warn(`Keycloak sync of ${row.realm}/${row.clientId} failed: ${error instanceof DomainError ? error.code : (error as Error).name}`);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.syncOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn(`Keycloak sync failed: ${(error as Error).message}`))
        .finally(() => this.schedule(Math.min(this.eventIntervalMs, this.sweepIntervalMs)));
    }, delayMs);
    this.timer.unref();
  }
}

/**
 * Has `intervalMs` passed since `stamp` (epoch ms as stored; null: never)? A stamp in the future
 * (written before the database's clock was stepped back, or by a version that stamped with its
 * own clock) counts as passed, so it can bring a sweep early, never hold it back.
 */
function elapsedAtLeast(now: number, stamp: string | null, intervalMs: number): boolean {
  if (stamp === null) return true;
  const since = now - Number(stamp);
  return since < 0 || since >= intervalMs;
}
