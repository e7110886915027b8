import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { And, IsNull, LessThanOrEqual, MoreThan, Repository } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../health/metrics.registry.js';
import type { ServiceAccountView } from '../../service-accounts/service-account.view.js';
import { WebhooksService } from '../../webhooks/webhooks.service.js';
import { ApiKeyEntity } from '../entities/api-key.entity.js';
import { ApiKeyVerificationService } from './api-key-verification.service.js';
import { ServiceAccountDirectory } from './service-account-directory.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The hard maximum lifetime of any key, whatever an account's policy says. */
const MAX_TTL_DAYS = 90;

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
 * thresholds, once per key and threshold. Verification already refuses expired keys by time; this
 * makes the state, the audit trail and the notifications follow.
 */
@Injectable()
export class KeyExpiryService implements OnApplicationBootstrap {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly directory: ServiceAccountDirectory,
    private readonly verification: ApiKeyVerificationService,
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

  async sweep(context: OperationContext, dryRun: boolean): Promise<ExpiryItem[]> {
    const items: ExpiryItem[] = [];
    const now = this.clock.now();
    const accounts = new Map<string, ServiceAccountView | null>();
    const accountOf = async (key: ApiKeyEntity) => {
      const id = `${key.realm}/${key.clientId}`;
      if (!accounts.has(id)) accounts.set(id, await this.directory.findLive(key.realm, key.clientId));
      return accounts.get(id)!;
    };

    const live = await this.keys.find({ where: { revokedAt: IsNull(), expiredAt: IsNull() }, order: { id: 'ASC' } });
    for (const key of live) {
      const account = await accountOf(key);
      const maxDays = Math.min(account?.apiKeyPolicy.maxTtlDays ?? MAX_TTL_DAYS, MAX_TTL_DAYS);
      const limit = new Date(key.createdAt.getTime() + maxDays * DAY_MS);
      if (key.expiresAt.getTime() > limit.getTime()) {
        items.push({ keyId: key.id, realm: key.realm, clientId: key.clientId, action: 'clamped', from: key.expiresAt.toISOString(), to: limit.toISOString() });
        if (!dryRun) {
          await this.keys.update(key.id, { expiresAt: limit });
          this.verification.forgetKeyHash(key.keyHash);
          await this.audit.record(context, {
            action: 'api_key.expiry_clamped',
            realm: key.realm,
            clientId: key.clientId,
            target: key.id,
            detail: { from: key.expiresAt.toISOString(), to: limit.toISOString(), maxTtlDays: maxDays },
          });
        }
        key.expiresAt = limit;
      }

      if (key.expiresAt.getTime() <= now.getTime()) {
        items.push({ keyId: key.id, realm: key.realm, clientId: key.clientId, action: 'expired' });
        if (!dryRun) {
          await this.keys.update(key.id, { expiredAt: now });
          this.verification.forgetKeyHash(key.keyHash);
          await this.audit.record(context, { action: 'api_key.expired', realm: key.realm, clientId: key.clientId, target: key.id, detail: { expiresAt: key.expiresAt.toISOString() } });
          await this.webhooks.publish('api_key.expired', { keyId: key.id, realm: key.realm, clientId: key.clientId, name: key.name, hint: key.hint, expiresAt: key.expiresAt.toISOString() });
        }
        continue;
      }

      // Warn once per threshold crossed; when several are crossed at once, one event names the nearest.
      const daysLeft = (key.expiresAt.getTime() - now.getTime()) / DAY_MS;
      const crossed = this.config.jobs.expiryWarningDays.filter((days) => daysLeft <= days && !(key.expiryWarnings ?? []).includes(days));
      if (crossed.length === 0) continue;
      const threshold = Math.min(...crossed);
      items.push({ keyId: key.id, realm: key.realm, clientId: key.clientId, action: 'warned', threshold });
      if (!dryRun) {
        await this.keys.update(key.id, { expiryWarnings: [...(key.expiryWarnings ?? []), ...crossed].sort((a, b) => b - a) });
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
    }
    return items;
  }
}
