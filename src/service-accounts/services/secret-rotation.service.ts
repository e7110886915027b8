import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThanOrEqual, Not, Repository } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { KeycloakClientsGateway } from '../../keycloak/keycloak-clients.gateway.js';
import { KeycloakService } from '../../keycloak/keycloak.service.js';
import { SecretVault } from '../../secrets/secret-vault.js';
import { WebhooksService } from '../../webhooks/webhooks.service.js';
import { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { ServiceAccountEvents } from '../service-account.events.js';
import { toServiceAccountView } from '../service-account.view.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export interface RotationOutcome {
  realm: string;
  clientId: string;
  action: 'rotated' | 'resumed' | 'invalidated-previous' | 'waiting' | 'failed' | 'would-rotate' | 'would-invalidate-previous';
  error?: string;
}

/**
 * Rotates client secrets as a state machine persisted step by step on the account row:
 *   1 `regenerated`  Keycloak made a new secret (the previous one stays valid as "rotated");
 *   2 `stored`       the new secret is stored encrypted;
 *   3 `verified`     a real client-credentials request proved it;
 *   4 `notified`     audit event and webhook sent; the previous secret is valid until
 *                    `previousSecretValidUntil`;
 *   5 (null)         after the grace window the rotated secret is invalidated in Keycloak.
 * A run that finds a rotation in progress resumes it; after a crash before step 2 the secret is
 * read back from Keycloak, so none is ever lost.
 */
@Injectable()
export class SecretRotationService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SecretRotationService.name);
  private readonly support = new Map<string, { feature: boolean; policy: boolean }>();
  /** The last complete check of every managed realm, for readiness. */
  private lastCheck: Record<string, { feature: boolean; policy: boolean }> = {};

  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly gateway: KeycloakClientsGateway,
    private readonly keycloak: KeycloakService,
    private readonly vault: SecretVault,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly events: ServiceAccountEvents,
  ) {}

  onApplicationBootstrap(): void {
    void this.supportByRealm()
      .then((byRealm) => {
        for (const [realm, support] of Object.entries(byRealm)) {
          if (!support.feature || !support.policy) {
            this.logger.warn(
              `Secret rotation with a grace window is unavailable in realm ${realm} (feature client-secret-rotation: ${support.feature}, ` +
                `Keysmith client policy: ${support.policy}); ${this.config.jobs.allowSecretCutover ? 'rotation cuts over at once' : 'rotation is refused'}.`,
            );
          }
        }
      })
      .catch((error) => this.logger.warn(`could not check secret-rotation support: ${(error as Error).message}`));
  }

  /** Per managed realm: is the Keycloak feature on and the client policy for Keysmith's clients there? */
  async supportByRealm(): Promise<Record<string, { feature: boolean; policy: boolean }>> {
    const entries = await Promise.all(this.config.managedRealms.map(async (realm) => [realm, await this.supportFor(realm, true)] as const));
    this.lastCheck = Object.fromEntries(entries);
    return this.lastCheck;
  }

  /** What the last complete check found, per realm, without calling Keycloak (for readiness); empty before it. */
  knownSupport(): Record<string, { feature: boolean; policy: boolean }> {
    return this.lastCheck;
  }

  /** Rotates now (the API's `secret/rotate`): steps 1 to 4, and 5 at once when graceHours is 0. */
  async rotateNow(context: OperationContext, row: ServiceAccountEntity, graceHours?: number): Promise<{ clientSecret: string; previousSecretValidUntil: string }> {
    if (row.secretRotationStep && row.secretRotationStep !== 'notified') await this.drive(context, row);
    await this.begin(row, graceHours ?? row.rotationGraceHours);
    await this.drive(context, row);
    if (row.secretRotationStep === 'notified' && row.previousSecretValidUntil && row.previousSecretValidUntil.getTime() <= this.clock.nowMs()) {
      await this.finish(context, row);
    }
    return {
      clientSecret: this.vault.decrypt(row.secretCiphertext!, row.id),
      previousSecretValidUntil: (row.previousSecretValidUntil ?? this.clock.now()).toISOString(),
    };
  }

  /** The scheduled job: start due rotations, resume interrupted ones, end grace windows that passed. */
  async processDue(context: OperationContext, dryRun: boolean): Promise<RotationOutcome[]> {
    const now = this.clock.now();
    const rows = await this.accounts.find({
      where: [
        { state: 'ready', deletedAt: IsNull(), secretRotationStep: IsNull(), nextRotationAt: LessThanOrEqual(now) },
        { state: 'ready', deletedAt: IsNull(), secretRotationStep: Not(IsNull()) },
      ],
      order: { id: 'ASC' },
    });
    const outcomes: RotationOutcome[] = [];
    for (const row of rows) {
      const base = { realm: row.realm, clientId: row.clientId };
      const graceOver = row.previousSecretValidUntil !== null && row.previousSecretValidUntil.getTime() <= now.getTime();
      if (dryRun) {
        if (row.secretRotationStep === 'notified') outcomes.push({ ...base, action: graceOver ? 'would-invalidate-previous' : 'waiting' });
        else outcomes.push({ ...base, action: 'would-rotate' });
        continue;
      }
      try {
        if (row.secretRotationStep === 'notified') {
          if (!graceOver) {
            outcomes.push({ ...base, action: 'waiting' });
            continue;
          }
          await this.finish(context, row);
          outcomes.push({ ...base, action: 'invalidated-previous' });
          continue;
        }
        const resumed = row.secretRotationStep !== null;
        if (!resumed) await this.begin(row, row.rotationGraceHours);
        await this.drive(context, row);
        outcomes.push({ ...base, action: resumed ? 'resumed' : 'rotated' });
      } catch (error) {
        const code = error instanceof DomainError ? error.code : (error as Error).name;
        outcomes.push({ ...base, action: 'failed', error: code });
        await this.accounts.update(row.id, { secretRotationFailures: row.secretRotationFailures + 1, secretRotationError: code });
        await this.audit.record(context, { action: 'client_secret.rotation_failed', outcome: 'failure', realm: row.realm, clientId: row.clientId, detail: { step: row.secretRotationStep, reason: code } });
        await this.webhooks.publish('client_secret.rotation_failed', { realm: row.realm, clientId: row.clientId, step: row.secretRotationStep, reason: code });
      }
    }
    return outcomes;
  }

  /** Step 1: a new secret in Keycloak. */
  private async begin(row: ServiceAccountEntity, graceHours: number): Promise<void> {
    const support = await this.supportFor(row.realm);
    const withGrace = support.feature && support.policy;
    if (!withGrace && !this.config.jobs.allowSecretCutover) {
      throw new DomainError(
        ErrorCode.SecretRotationUnavailable,
        `Realm ${row.realm} does not keep the previous secret valid (Keycloak feature client-secret-rotation: ${support.feature}, ` +
          `client policy for Keysmith's clients: ${support.policy}). Set KEYSMITH_SECRET_ROTATION_ALLOW_CUTOVER=true to rotate with an immediate cut-over.`,
      );
    }
    await this.gateway.regenerateSecret(row.realm, row.keycloakId!);
    await this.save(row, { secretRotationStep: 'regenerated', secretRotationGraceHours: withGrace ? graceHours : 0 });
  }

  /** Steps 2 to 4, from wherever the row stands. */
  private async drive(context: OperationContext, row: ServiceAccountEntity): Promise<void> {
    if (row.secretRotationStep === 'regenerated') {
      // Read back from Keycloak: also right after a crash that lost the value returned by step 1.
      const secret = await this.gateway.getClientSecret(row.realm, row.keycloakId!);
      await this.save(row, { secretCiphertext: this.vault.encrypt(secret, row.id), secretRotationStep: 'stored' });
      await this.events.publish({ type: 'secret-rotated', account: toServiceAccountView(row), context });
    }
    if (row.secretRotationStep === 'stored') {
      const result = await this.keycloak.clientCredentials(row.realm, row.clientId, this.vault.decrypt(row.secretCiphertext!, row.id));
      if (!result.ok) {
        throw new DomainError(ErrorCode.SecretRotationFailed, `The new secret of ${row.clientId} was refused by Keycloak (${result.error}); the rotation is retried on the next run.`);
      }
      await this.save(row, { secretRotationStep: 'verified' });
    }
    if (row.secretRotationStep === 'verified') {
      const now = this.clock.now();
      const graceHours = row.secretRotationGraceHours ?? row.rotationGraceHours;
      const previousSecretValidUntil = new Date(now.getTime() + graceHours * HOUR_MS);
      await this.audit.record(context, {
        action: 'client_secret.rotated',
        realm: row.realm,
        clientId: row.clientId,
        detail: { graceHours, previousSecretValidUntil: previousSecretValidUntil.toISOString() },
      });
      await this.webhooks.publish('client_secret.rotated', { realm: row.realm, clientId: row.clientId, previousSecretValidUntil: previousSecretValidUntil.toISOString() });
      await this.save(row, {
        secretRotationStep: 'notified',
        previousSecretValidUntil,
        lastRotatedAt: now,
        nextRotationAt: new Date(now.getTime() + row.rotationEveryDays * DAY_MS),
        secretRotationFailures: 0,
        secretRotationError: null,
      });
    }
  }

  /** Step 5: the grace window is over; the previous secret stops working. */
  private async finish(context: OperationContext, row: ServiceAccountEntity): Promise<void> {
    await this.gateway.invalidateRotatedSecret(row.realm, row.keycloakId!);
    await this.save(row, { secretRotationStep: null, previousSecretValidUntil: null, secretRotationGraceHours: null });
    await this.audit.record(context, { action: 'client_secret.previous_invalidated', realm: row.realm, clientId: row.clientId });
    await this.events.publish({ type: 'secret-rotated', account: toServiceAccountView(row), context });
  }

  private async save(row: ServiceAccountEntity, changes: Partial<ServiceAccountEntity>): Promise<void> {
    Object.assign(row, changes, { updatedAt: this.clock.now() });
    await this.accounts.update(row.id, { ...changes, updatedAt: row.updatedAt });
  }

  private async supportFor(realm: string, refresh = false): Promise<{ feature: boolean; policy: boolean }> {
    const known = this.support.get(realm);
    if (known && !refresh) return known;
    const support = await this.gateway.secretRotationSupport(realm);
    this.support.set(realm, support);
    return support;
  }
}
