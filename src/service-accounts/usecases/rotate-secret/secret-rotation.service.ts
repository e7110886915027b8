import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, LessThanOrEqual, Not, Repository } from 'typeorm';
import { AuditService } from '../../../audit/index.js';
import type { OperationContext } from '../../../common/context/operation-context.js';
import { DomainError } from '../../../common/errors/domain-error.js';
import { ErrorCode } from '../../../common/errors/error-code.js';
import { sortableId } from '../../../common/ids/ids.js';
import { Clock } from '../../../common/time/clock.js';
import { AppConfig } from '../../../config/app-config.js';
import { SecretVault } from '../../../secrets/index.js';
import { WebhooksService } from '../../../webhooks/index.js';
import { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { KeycloakRotationAdapter, RotationNotifier, RotationRowStore } from './rotation.adapters.js';
import { ACCOUNT_LEASE, type AccountLeasePort } from './rotation.ports.js';
import { RotationSupportService } from './rotation-support.service.js';
import { RotateSecretUseCase, rotationUnderWay, UNFINISHED_STEPS, type RotationRun } from './rotate-secret.usecase.js';

export interface RotationOutcome {
  realm: string;
  clientId: string;
  action: 'rotated' | 'resumed' | 'invalidated-previous' | 'waiting' | 'failed' | 'would-rotate' | 'would-invalidate-previous';
  error?: string;
}

/**
 * Entry points of secret rotation: the rotate API, the `secret-rotation` job and start-up
 * recovery. Each takes the account's lease, reads the row again under it, and hands it to the
 * one state machine (RotateSecretUseCase).
 */
@Injectable()
export class SecretRotationService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private startupCheck: Promise<void> = Promise.resolve();
  private readonly logger = new Logger(SecretRotationService.name);
  readonly machine: RotateSecretUseCase;

  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    @Inject(ACCOUNT_LEASE) private readonly lease: AccountLeasePort,
    private readonly support: RotationSupportService,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    vault: SecretVault,
    keycloak: KeycloakRotationAdapter,
    store: RotationRowStore,
    notifier: RotationNotifier,
  ) {
    this.machine = new RotateSecretUseCase(keycloak, store, vault, notifier, clock, () => sortableId('rot', clock.now()));
  }

  onApplicationBootstrap(): void {
    // Never block the start on Keycloak. Interrupted rotations are finished by the `recovery` job
    // (its start-up catch-up included) and by `secret-rotation` runs, never by a CLI start.
    this.startupCheck = this.support.checkAtStartup().catch((error) => this.logger.warn(`could not check secret-rotation support: ${(error as Error).message}`));
  }

  /** The start-up check reads the database: a close waits for it (Keycloak's timeout bounds it). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.startupCheck;
  }

  /**
   * Rotates now (the API's `secret/rotate`): finishes an interrupted rotation first, then records
   * and drives a new one; `graceHours` 0 ends the previous secret at once.
   */
  async rotateNow(context: OperationContext, account: ServiceAccountEntity, graceHours?: number): Promise<{ clientSecret: string; previousSecretValidUntil: string }> {
    return this.lease.withAccount(account.realm, account.clientId, async (fence) => {
      const row = await this.reload(account);
      const run: RotationRun = { context, fence };
      const grace = await this.graceFor(row, graceHours ?? row.rotationGraceHours);
      if (rotationUnderWay(row)) await this.machine.drive(run, row);
      await this.machine.start(run, row, grace);
      return {
        clientSecret: this.machine.storedSecret(row),
        previousSecretValidUntil: (row.previousSecretValidUntil ?? this.clock.now()).toISOString(),
      };
    });
  }

  /**
   * The scheduled job: start due rotations, resume interrupted ones, end grace windows that passed.
   * `signal` (the run's lease, see JobRunContext) is checked before each account.
   */
  async processDue(context: OperationContext, dryRun: boolean, signal?: AbortSignal): Promise<RotationOutcome[]> {
    const now = this.clock.now();
    const rows = await this.accounts.find({
      where: [
        { state: 'ready', deletedAt: IsNull(), secretRotationStep: IsNull(), nextRotationAt: LessThanOrEqual(now) },
        { state: 'ready', deletedAt: IsNull(), secretRotationStep: Not(IsNull()) },
      ],
      order: { id: 'ASC' },
    });
    const outcomes: RotationOutcome[] = [];
    for (const candidate of rows) {
      signal?.throwIfAborted();
      const base = { realm: candidate.realm, clientId: candidate.clientId };
      if (dryRun) {
        outcomes.push({ ...base, action: this.plannedAction(candidate) });
        continue;
      }
      try {
        const action = await this.lease.withAccount(candidate.realm, candidate.clientId, (fence) => this.processOne({ context, fence }, candidate));
        outcomes.push({ ...base, action });
      } catch (error) {
        outcomes.push({ ...base, action: 'failed', error: await this.recordFailure(context, candidate, error) });
      }
    }
    return outcomes;
  }

  /**
   * Drives every rotation a crash left unfinished, and ends grace windows that passed (the
   * `recovery` job). Only rotations nobody holds: a live instance may be driving one right now.
   */
  async resumeInterrupted(context: OperationContext, signal?: AbortSignal): Promise<number> {
    const live = { state: 'ready' as const, deletedAt: IsNull() };
    const rows = await this.accounts.find({
      where: [
        { ...live, secretRotationStep: In([...UNFINISHED_STEPS]) },
        { ...live, secretRotationStep: 'notified', previousSecretValidUntil: LessThanOrEqual(this.clock.now()) },
      ],
      order: { id: 'ASC' },
    });
    let resumed = 0;
    for (const candidate of rows) {
      signal?.throwIfAborted();
      try {
        await this.lease.tryWithAccount(candidate.realm, candidate.clientId, async (fence) => {
          const row = await this.reload(candidate);
          if (!row.secretRotationStep || (row.secretRotationStep === 'notified' && !this.machine.graceOver(row))) return;
          await this.machine.drive({ context, fence }, row);
          resumed += 1;
        });
      } catch (error) {
        await this.recordFailure(context, candidate, error);
      }
    }
    return resumed;
  }

  private async processOne(run: RotationRun, candidate: ServiceAccountEntity): Promise<RotationOutcome['action']> {
    const row = await this.reload(candidate);
    if (row.state !== 'ready' || row.deletedAt) return 'waiting';
    if (row.secretRotationStep === 'notified' || row.secretRotationStep === null) {
      if (row.secretRotationStep === 'notified' && !this.machine.graceOver(row)) return 'waiting';
      if (row.secretRotationStep === 'notified') {
        await this.machine.drive(run, row);
        return 'invalidated-previous';
      }
      if (!row.nextRotationAt || row.nextRotationAt.getTime() > this.clock.nowMs()) return 'waiting';
      await this.machine.start(run, row, await this.graceFor(row, row.rotationGraceHours));
      return 'rotated';
    }
    await this.machine.drive(run, row);
    return 'resumed';
  }

  private plannedAction(row: ServiceAccountEntity): RotationOutcome['action'] {
    if (row.secretRotationStep !== 'notified') return 'would-rotate';
    return this.machine.graceOver(row) ? 'would-invalidate-previous' : 'waiting';
  }

  /** The grace window this realm can keep: refused, or 0 with cut-over allowed, without Keycloak's support. */
  private async graceFor(row: ServiceAccountEntity, graceHours: number): Promise<number> {
    const support = await this.support.supportFor(row.realm);
    if (support.feature && support.policy) return graceHours;
    if (this.config.jobs.allowSecretCutover) return 0;
    throw new DomainError(
      ErrorCode.SecretRotationUnavailable,
      `Realm ${row.realm} does not keep the previous secret valid (Keycloak feature client-secret-rotation: ${support.feature}, ` +
        `client policy for Keysmith's clients: ${support.policy}). Set KEYSMITH_SECRET_ROTATION_ALLOW_CUTOVER=true to rotate with an immediate cut-over.`,
    );
  }

  private async reload(row: ServiceAccountEntity): Promise<ServiceAccountEntity> {
    const fresh = await this.accounts.findOneBy({ id: row.id });
    if (!fresh) throw new DomainError(ErrorCode.NotFound, `Service account ${row.clientId} not found in realm ${row.realm}.`);
    return fresh;
  }

  private async recordFailure(context: OperationContext, row: ServiceAccountEntity, error: unknown): Promise<string> {
    const code = error instanceof DomainError ? error.code : (error as Error).name;
    const fresh = (await this.accounts.findOneBy({ id: row.id })) ?? row;
    await this.accounts.update(row.id, { secretRotationFailures: fresh.secretRotationFailures + 1, secretRotationError: code });
    await this.audit.record(context, { action: 'client_secret.rotation_failed', outcome: 'failure', realm: row.realm, clientId: row.clientId, detail: { step: fresh.secretRotationStep, reason: code } });
    await this.webhooks.publish('client_secret.rotation_failed', { realm: row.realm, clientId: row.clientId, step: fresh.secretRotationStep, reason: code });
    return code;
  }
}
