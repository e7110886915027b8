import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Repository } from 'typeorm';
import { AuditService } from '../../audit/index.js';
import { systemContext, type OperationContext } from '../../common/context/operation-context.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { AccountChangeFeed } from '../ports/account-change-feed.port.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import { scopeExcess, scopesNow, statusOf } from '../api-key.view.js';
import { ApiKeyEntity } from '../entities/api-key.entity.js';
import { ServiceAccountDirectory } from '../ports/service-account-directory.port.js';
import type { ScopeExcessItem, ScopeExcessReport } from '../api-key.view.js';

const BATCH = 1_000;


/**
 * Finds live keys whose issued scopes exceed their account's current scopes: at start-up (so an
 * upgrade shows which keys enforcement cuts), after each account change made through this
 * instance, and on request (`GET /v1/api-keys/scope-report`). Each key's excess is audited once
 * (`api_key.scope_excess`), across instances and restarts, through a conditional update of the key
 * row. `keysmith_api_keys_scope_excess` counts the keys as of this instance's last check.
 */
@Injectable()
export class ScopeExcessService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly logger = new Logger(ScopeExcessService.name);
  /** Keys with excess per account (realm NUL clientId), as of the last check on this instance. */
  private readonly counts = new Map<string, number>();
  private startup?: Promise<unknown>;

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly directory: ServiceAccountDirectory,
    private readonly events: AccountChangeFeed,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.metrics.gauge('keysmith_api_keys_scope_excess', 'Live API keys holding scopes their account no longer has (as of this instance\'s last check)', [], async (gauge) => {
      await this.startup;
      gauge.set([...this.counts.values()].reduce((sum, count) => sum + count, 0));
    });
    this.events.subscribe(async (event) => {
      if (event.type === 'deleted') this.counts.delete(accountKey(event.account));
      // A new account has no live keys: those of an earlier account with its clientId were revoked
      // when that one was deleted (migration 1764300020000 for deployments from before that order).
      else if (event.type !== 'created') await this.track(this.checkAccount(event.account, event.context));
    });
    this.startup = this.report(systemContext('job', 'key-scope-check'), null).then(
      ({ items }) => items.length > 0 && this.logger.warn(`${items.length} API keys hold scopes their accounts no longer have (KEYSMITH_KEY_SCOPE_ENFORCEMENT=${this.config.apiKeys.scopeEnforcement}); see GET /v1/api-keys/scope-report`),
      (error: unknown) => this.logger.error({ err: error }, 'the start-up check of API key scopes failed'),
    );
  }

  /** The checks under way read the database: a close waits for them. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.startup, ...this.inFlight]);
  }

  private async track<T>(check: Promise<T>): Promise<T> {
    this.inFlight.add(check);
    try {
      return await check;
    } finally {
      this.inFlight.delete(check);
    }
  }

  /** Every live key with excess scopes, within `owner` when set; audits excess not reported yet. */
  async report(context: OperationContext, owner: string | null, realm?: string): Promise<ScopeExcessReport> {
    const items: ScopeExcessItem[] = [];
    for (const managed of this.config.managedRealms.filter((name) => !realm || name === realm)) {
      const accounts = (await this.directory.listAll(managed)).filter((account) => !owner || account.owner === owner);
      for (const account of accounts) items.push(...(await this.checkAccount(account, context)));
    }
    return { enforcement: this.config.apiKeys.scopeEnforcement, items: items.sort((a, b) => a.id.localeCompare(b.id)) };
  }

  private async checkAccount(account: ServiceAccountView, context: OperationContext): Promise<ScopeExcessItem[]> {
    const now = this.clock.now();
    const accountScopes = [...account.defaultScopes, ...account.optionalScopes];
    const items: ScopeExcessItem[] = [];
    let after = '';
    for (;;) {
      const rows = await this.keys.find({
        where: { realm: account.realm, clientId: account.clientId, revokedAt: IsNull(), expiresAt: MoreThan(now), id: MoreThan(after) },
        order: { id: 'ASC' },
        take: BATCH,
      });
      for (const row of rows) {
        const excess = scopeExcess(row.scopes, accountScopes).sort();
        await this.markReported(row, excess, account, context);
        if (excess.length === 0) continue;
        items.push({
          id: row.id,
          realm: row.realm,
          clientId: row.clientId,
          owner: account.owner,
          name: row.name,
          hint: row.hint,
          status: statusOf(row, now),
          issuedScopes: [...row.scopes],
          excessScopes: excess,
          scopes: scopesNow(row.scopes, accountScopes, this.config.apiKeys.scopeEnforcement),
        });
      }
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1].id;
    }
    this.counts.set(accountKey(account), items.length);
    return items;
  }

  /** Records the key's current excess; the one instance whose update lands audits it. */
  private async markReported(row: ApiKeyEntity, excess: string[], account: ServiceAccountView, context: OperationContext): Promise<void> {
    const reported = row.reportedScopeExcess ?? [];
    if (JSON.stringify(reported) === JSON.stringify(excess)) return;
    const previous = row.reportedScopeExcess === null ? null : JSON.stringify(row.reportedScopeExcess);
    const result = await this.keys
      .createQueryBuilder()
      .update()
      .set({ reportedScopeExcess: excess.length ? excess : null })
      .where(previous === null ? 'id = :id AND reported_scope_excess IS NULL' : 'id = :id AND reported_scope_excess = :previous', { id: row.id, previous })
      .execute();
    if (!result.affected || excess.length === 0) return;
    await this.audit.record(context, {
      action: 'api_key.scope_excess',
      outcome: 'failure',
      realm: row.realm,
      clientId: row.clientId,
      target: row.id,
      owner: account.owner,
      detail: { name: row.name, hint: row.hint, excessScopes: excess, enforcement: this.config.apiKeys.scopeEnforcement },
    });
  }
}

function accountKey(account: Pick<ServiceAccountView, 'realm' | 'clientId'>): string {
  return `${account.realm}\u0000${account.clientId}`;
}
