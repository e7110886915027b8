import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import { AuditOwnerLookup } from '../../audit/index.js';
import { ManagedCallerDirectory, type ManagedCaller } from '../../auth/index.js';
import { TtlCache } from '../../common/cache/ttl-cache.js';
import { ChangeFeed } from '../../common/changes/index.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { effectiveStateOf } from '../keycloak-observation.js';

const CACHE_SIZE = 10_000;

/**
 * Small lookups other features need about accounts, without reading this feature's table: who a
 * token's client is (the auth guard confines it to the account's owner) and whose an audit event
 * is. Caller lookups are cached for at most KEYSMITH_API_KEY_CACHE_TTL_MS; an account change
 * drops the entry through the change feed, at once here and within a notification or a poll on
 * the other instances.
 */
@Injectable()
export class AccountLookupService implements ManagedCallerDirectory, AuditOwnerLookup, OnModuleInit {
  private readonly callers: TtlCache<string, ManagedCaller | null>;

  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly changes: ChangeFeed,
    config: AppConfig,
    clock: Clock,
  ) {
    this.callers = new TtlCache(CACHE_SIZE, config.apiKeys.cacheTtlMs, () => clock.nowMs());
  }

  onModuleInit(): void {
    this.changes.subscribe((change) => {
      if (change.kind === 'account') this.callers.delete(cacheKey(change.realm, change.clientId));
      else if (change.kind === 'all') this.callers.clear();
    });
  }

  async findCaller(realm: string, clientId: string): Promise<ManagedCaller | null> {
    // One query however many requests of the caller arrive while its entry is missing (see TtlCache.getOrLoad).
    return this.callers.getOrLoad(cacheKey(realm, clientId), async () => {
      const row = await this.accounts.findOne({ where: { realm, clientId, deletedAt: IsNull(), state: Not('provisioning') } });
      const effective = row ? effectiveStateOf(row) : null;
      return row && effective ? { owner: row.owner, enabled: effective.enabled, scopes: effective.scopes } : null;
    });
  }

  async ownerOf(realm: string, clientId: string): Promise<string | null> {
    const [row] = await this.accounts.find({ select: { owner: true }, where: { realm, clientId }, order: { id: 'DESC' }, take: 1 });
    return row?.owner ?? null;
  }
}

function cacheKey(realm: string, clientId: string): string {
  return `${realm}\u0000${clientId}`;
}
