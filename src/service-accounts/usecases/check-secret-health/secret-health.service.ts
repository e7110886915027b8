import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import type { Counter, Gauge } from 'prom-client';
import { AuditService } from '../../../audit/index.js';
import type { OperationContext } from '../../../common/context/operation-context.js';
import { DomainError } from '../../../common/errors/domain-error.js';
import { Clock } from '../../../common/time/clock.js';
import { AppConfig } from '../../../config/app-config.js';
import { MetricsRegistry } from '../../../common/metrics/metrics.registry.js';
import { SecretVault } from '../../../secrets/index.js';
import { WebhooksService } from '../../../webhooks/index.js';
import { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { KeycloakRotationAdapter } from '../rotate-secret/rotation.adapters.js';
import { ACCOUNT_LEASE, type AccountLeasePort } from '../rotate-secret/rotation.ports.js';
import { SecretRotationService } from '../rotate-secret/secret-rotation.service.js';
import { rotationUnderWay } from '../rotate-secret/rotate-secret.usecase.js';
import { CheckSecretHealthUseCase, type MismatchDetail, type MismatchReporter } from './check-secret-health.usecase.js';
import { Pacer, realSleep, type Sleep } from './pacer.js';

export interface SecretHealthOutcome {
  realm: string;
  clientId: string;
  result: 'ok' | 'mismatch' | 'repaired' | 'skipped' | 'failed';
  error?: string;
}

/**
 * The secret health check: proves the stored secret of every managed account against Keycloak,
 * paced by the injected clock, reports mismatches, and repairs them (a rotation with a cut-over)
 * only when `KEYSMITH_SECRET_HEALTH_REPAIR=true`.
 */
@Injectable()
export class SecretHealthService implements MismatchReporter, BeforeApplicationShutdown {
  private readonly checker: CheckSecretHealthUseCase;
  private readonly mismatches: Gauge<'realm'>;
  private readonly mismatchesTotal: Counter<'realm'>;
  /** A paced run may last most of its interval: shutdown ends it (the rest is checked next run). */
  private readonly stopping = new AbortController();
  /** Replaced by unit tests with a sleep that moves their clock. */
  sleep: Sleep = realSleep(this.stopping.signal);

  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    @Inject(ACCOUNT_LEASE) private readonly lease: AccountLeasePort,
    private readonly rotation: SecretRotationService,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
    keycloak: KeycloakRotationAdapter,
    vault: SecretVault,
  ) {
    this.checker = new CheckSecretHealthUseCase(keycloak, vault, this);
    this.mismatches = metrics.gauge('keysmith_secret_mismatches', 'Accounts whose stored client secret Keycloak refused in the last health check', ['realm']);
    this.mismatchesTotal = metrics.counter('keysmith_secret_mismatches_total', 'Stored client secrets found refused by Keycloak', ['realm']);
  }

  beforeApplicationShutdown(): void {
    this.stopping.abort();
  }

  /**
   * One pass over every managed account; `dryRun` checks and reports but never repairs. The list
   * is read once, but each account is checked under its lease against its row as it is then: a
   * paced run lasts up to KEYSMITH_SECRET_HEALTH_SPREAD_MINUTES, and a rotation meanwhile stores a
   * new secret (the one read at the start is then only Keycloak's rotated one).
   */
  async checkAll(context: OperationContext, dryRun: boolean, signal?: AbortSignal): Promise<SecretHealthOutcome[]> {
    const rows = await this.accounts.find({ where: { state: 'ready', deletedAt: IsNull(), secretCiphertext: Not(IsNull()) }, order: { id: 'ASC' } });
    const { ratePerSecond, spreadMs, repair } = this.config.jobs.secretHealth;
    const pacer = new Pacer(this.clock, this.sleep, ratePerSecond, rows.length, spreadMs);
    const outcomes: SecretHealthOutcome[] = [];
    const byRealm = new Map<string, number>(this.config.managedRealms.map((realm) => [realm, 0]));
    for (const row of rows) {
      // The run's lease (see JobRunContext): a run that lost it stops before the next account.
      signal?.throwIfAborted();
      const base = { realm: row.realm, clientId: row.clientId };
      if (rotationUnderWay(row)) {
        // A rotation in progress owns the secret; the rotation job finishes it.
        outcomes.push({ ...base, result: 'skipped' });
        continue;
      }
      await pacer.turn();
      if (this.stopping.signal.aborted) break;
      // Again after the pacer's wait, which can be long.
      signal?.throwIfAborted();
      try {
        const result = await this.checkHeld(context, row, repair && !dryRun);
        if (result === 'mismatch' || result === 'repaired') byRealm.set(row.realm, (byRealm.get(row.realm) ?? 0) + 1);
        outcomes.push({ ...base, result });
      } catch (error) {
        outcomes.push({ ...base, result: 'failed', error: error instanceof DomainError ? error.code : (error as Error).name });
      }
    }
    for (const [realm, count] of byRealm) this.mismatches.set({ realm }, count);
    return outcomes;
  }

  /**
   * One account's check outside a run (a secret regenerated in Keycloak was seen): proves, reports
   * and repairs exactly as a run does; an account with a rotation in progress is left to it.
   */
  checkAccount(context: OperationContext, row: ServiceAccountEntity): Promise<SecretHealthOutcome['result']> {
    return this.checkHeld(context, row, this.config.jobs.secretHealth.repair);
  }

  /**
   * Checks the account under its lease, against its row read under it, and repairs in the same
   * hold: no rotation or other change runs between what is compared and what is repaired. An
   * account gone, no longer ready, or with a rotation under way by then is skipped.
   */
  private checkHeld(context: OperationContext, listed: ServiceAccountEntity, repair: boolean): Promise<SecretHealthOutcome['result']> {
    return this.lease.withAccount(listed.realm, listed.clientId, async (fence) => {
      const row = await this.accounts.findOneBy({ id: listed.id });
      if (!row || row.state !== 'ready' || row.deletedAt || !row.secretCiphertext || rotationUnderWay(row)) return 'skipped';
      if ((await this.checker.check(context, row, repair)) === 'ok') return 'ok';
      if (!repair) return 'mismatch';
      // A rotation with a cut-over: a fresh secret, stored and proven, the refused one ended.
      await this.rotation.machine.start({ context, fence }, row, 0, { regenerate: true });
      return 'repaired';
    });
  }

  async mismatch(context: OperationContext, row: ServiceAccountEntity, detail: MismatchDetail): Promise<void> {
    this.mismatchesTotal.inc({ realm: row.realm });
    const reason = !detail.storedAccepted
      ? 'Keycloak refused the stored secret'
      : 'the stored secret is only Keycloak\'s rotated one (Keycloak regenerated it); it ends with the rotated-expiration-period';
    await this.audit.record(context, { action: 'client_secret.mismatch', outcome: 'failure', realm: row.realm, clientId: row.clientId, detail: { reason, repair: detail.repair } });
    await this.webhooks.publish('client_secret.mismatch', { realm: row.realm, clientId: row.clientId, reason, repair: detail.repair });
  }
}
