import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Sql } from '../../database/sql.js';
import { InjectRepository } from '@nestjs/typeorm';
import { And, IsNull, LessThanOrEqual, MoreThan, Repository, type FindOptionsWhere } from 'typeorm';
import { AuditService } from '../../audit/index.js';
import { ChangeFeed, keyChange } from '../../common/changes/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { WebhooksService } from '../../webhooks/index.js';
import { ApiKeyEntity } from '../entities/api-key.entity.js';
import { changeStamp } from './key-rows.js';
import { ServiceAccountDirectory } from '../ports/service-account-directory.port.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The hard maximum lifetime of any key, whatever an account's policy says. */
const MAX_TTL_DAYS = 90;
const BATCH = 1_000;
/**
 * Every write of a sweep is conditional on what it read (the key still live, its expiry or its
 * warnings unchanged), and only a write that changed the row is audited and announced: two sweeps
 * at once (a run that lost its lease going on beside the one that took it over) record each
 * clamp, expiry and warning once.
 */
const STILL_LIVE = { revokedAt: IsNull(), expiredAt: IsNull() } as const;

export interface ExpiryItem {
  keyId: string;
  realm: string;
  clientId: string;
  action: 'clamped' | 'expired' | 'warned';
  threshold?: number;
  from?: string;
  to?: string;
}

/**
 * The key-expiry sweep: clamps every key to its account's maximum lifetime (at most 90 days from
 * creation), records keys whose expiry passed, and warns before expiry at the configured
 * thresholds, once per key and threshold, also when two sweeps overlap (see STILL_LIVE).
 * Verification already refuses expired keys by time; this makes the state, the audit trail and the
 * notifications follow.
 */
@Injectable()
export class KeyExpiryService implements OnApplicationBootstrap {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly directory: ServiceAccountDirectory,
    private readonly changes: ChangeFeed,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.metrics.gauge('keysmith_api_keys_expiring_within_14_days', 'Active API keys whose expiry is within 14 days', [], async (gauge) => {
      const now = this.clock.now();
      gauge.set(
        await this.keys.count({ where: { revokedAt: IsNull(), expiresAt: And(MoreThan(now), LessThanOrEqual(new Date(now.getTime() + 14 * DAY_MS))) } }),
      );
    });
  }

  /**
   * One sweep. Each step reads only the keys it concerns, through indexes and in batches, so the
   * sweep stays cheap with a million keys stored. `signal` (the job run's lease, see
   * JobRunContext) is checked before each account and key.
   */
  async sweep(context: OperationContext, dryRun: boolean, signal?: AbortSignal): Promise<ExpiryItem[]> {
    const now = this.clock.now();
    return [...(await this.clamp(context, dryRun, signal)), ...(await this.expire(context, dryRun, now, signal)), ...(await this.warn(context, dryRun, now, signal))];
  }

  /** Keys living longer than their account allows (imports, a lowered maxTtlDays) end at createdAt + maxTtlDays. */
  private async clamp(context: OperationContext, dryRun: boolean, signal?: AbortSignal): Promise<ExpiryItem[]> {
    const items: ExpiryItem[] = [];
    const accounts = (await this.keys
      .createQueryBuilder('k')
      .select('k.realm', 'realm')
      .addSelect('k.clientId', 'clientId')
      .distinct(true)
      .where('k.revokedAt IS NULL AND k.expiredAt IS NULL')
      .getRawMany()) as { realm: string; clientId: string }[];
    for (const { realm, clientId } of accounts) {
      signal?.throwIfAborted();
      const account = await this.directory.findLive(realm, clientId);
      const maxDays = Math.min(account?.apiKeyPolicy.maxTtlDays ?? MAX_TTL_DAYS, MAX_TTL_DAYS);
      const over = await this.keys
        .createQueryBuilder('k')
        .where('k.realm = :realm AND k.clientId = :clientId AND k.revokedAt IS NULL AND k.expiredAt IS NULL', { realm, clientId })
        // A second of slack: stored times have millisecond precision, SQLite's julianday arithmetic less.
        .andWhere(`${new Sql(this.keys.manager.connection).secondsBetween('k.expiresAt', 'k.createdAt')} > :maxSeconds`, { maxSeconds: maxDays * 86_400 + 1 })
        .getMany();
      for (const key of over) {
        signal?.throwIfAborted();
        const limit = new Date(key.createdAt.getTime() + maxDays * DAY_MS);
        const item: ExpiryItem = { keyId: key.id, realm, clientId, action: 'clamped', from: key.expiresAt.toISOString(), to: limit.toISOString() };
        if (dryRun) {
          items.push(item);
          continue;
        }
        const clamped = await this.changes.transaction(async (manager, changed) => {
          const { affected } = await manager.update(ApiKeyEntity, { id: key.id, ...STILL_LIVE, expiresAt: MoreThan(limit) }, { expiresAt: limit, changedAt: changeStamp(manager.connection) });
          if (affected) changed(keyChange(key));
          return Boolean(affected);
        });
        if (!clamped) continue;
        items.push(item);
        await this.audit.record(context, {
          action: 'api_key.expiry_clamped',
          realm,
          clientId,
          target: key.id,
          detail: { from: key.expiresAt.toISOString(), to: limit.toISOString(), maxTtlDays: maxDays },
        });
      }
    }
    return items;
  }

  /** Keys whose expiry passed are recorded as expired (verification refused them by time already). */
  private async expire(context: OperationContext, dryRun: boolean, now: Date, signal?: AbortSignal): Promise<ExpiryItem[]> {
    const items: ExpiryItem[] = [];
    for await (const key of this.batches({ revokedAt: IsNull(), expiredAt: IsNull(), expiresAt: LessThanOrEqual(now) })) {
      signal?.throwIfAborted();
      const item: ExpiryItem = { keyId: key.id, realm: key.realm, clientId: key.clientId, action: 'expired' };
      if (dryRun) {
        items.push(item);
        continue;
      }
      const expired = await this.changes.transaction(async (manager, changed) => {
        const { affected } = await manager.update(ApiKeyEntity, { id: key.id, ...STILL_LIVE }, { expiredAt: now });
        if (affected) changed(keyChange(key));
        return Boolean(affected);
      });
      if (!expired) continue;
      items.push(item);
      await this.audit.record(context, { action: 'api_key.expired', realm: key.realm, clientId: key.clientId, target: key.id, detail: { expiresAt: key.expiresAt.toISOString() } });
      await this.webhooks.publish('api_key.expired', { keyId: key.id, realm: key.realm, clientId: key.clientId, name: key.name, hint: key.hint, expiresAt: key.expiresAt.toISOString() });
    }
    return items;
  }

  /** Once per key and threshold; when several are crossed at once, one event names the nearest. */
  private async warn(context: OperationContext, dryRun: boolean, now: Date, signal?: AbortSignal): Promise<ExpiryItem[]> {
    const items: ExpiryItem[] = [];
    const thresholds = this.config.jobs.expiryWarningDays;
    if (thresholds.length === 0) return items;
    const horizon = new Date(now.getTime() + Math.max(...thresholds) * DAY_MS);
    for await (const key of this.batches({ revokedAt: IsNull(), expiredAt: IsNull(), expiresAt: And(MoreThan(now), LessThanOrEqual(horizon)) })) {
      signal?.throwIfAborted();
      const daysLeft = (key.expiresAt.getTime() - now.getTime()) / DAY_MS;
      const crossed = thresholds.filter((days) => daysLeft <= days && !(key.expiryWarnings ?? []).includes(days));
      if (crossed.length === 0) continue;
      const threshold = Math.min(...crossed);
      const item: ExpiryItem = { keyId: key.id, realm: key.realm, clientId: key.clientId, action: 'warned', threshold };
      if (dryRun) {
        items.push(item);
        continue;
      }
      // Only over the thresholds this sweep read: of two sweeps that read the same, one warns.
      const { affected } = await this.keys
        .createQueryBuilder()
        .update(ApiKeyEntity)
        .set({ expiryWarnings: [...(key.expiryWarnings ?? []), ...crossed].sort((a, b) => b - a) })
        .where({ id: key.id, ...STILL_LIVE })
        .andWhere('expiry_warnings = :read', { read: JSON.stringify(key.expiryWarnings ?? []) })
        .execute();
      if (!affected) continue;
      items.push(item);
      await this.audit.record(context, {
        action: 'api_key.expiring',
        realm: key.realm,
        clientId: key.clientId,
        target: key.id,
        detail: { thresholdDays: threshold, expiresAt: key.expiresAt.toISOString() },
      });
      await this.webhooks.publish('api_key.expiring', {
        keyId: key.id,
        realm: key.realm,
        clientId: key.clientId,
        name: key.name,
        hint: key.hint,
        thresholdDays: threshold,
        expiresAt: key.expiresAt.toISOString(),
      });
    }
    return items;
  }

  /** Matching keys in id order, BATCH at a time (keyset paging). */
  private async *batches(where: FindOptionsWhere<ApiKeyEntity>): AsyncGenerator<ApiKeyEntity> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.keys.find({ where: { ...where, ...(after ? { id: MoreThan(after) } : {}) }, order: { id: 'ASC' }, take: BATCH });
      yield* rows;
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1].id;
    }
  }
}
