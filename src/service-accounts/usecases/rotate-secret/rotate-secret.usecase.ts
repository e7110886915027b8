import type { OperationContext } from '../../../common/context/operation-context.js';
import { DomainError } from '../../../common/errors/domain-error.js';
import { ErrorCode } from '../../../common/errors/error-code.js';
import { faultPoint } from '../../../common/faults/fault-points.js';
import type { Clock } from '../../../common/time/clock.js';
import type { SecretRotationStep, ServiceAccountEntity } from '../../entities/service-account.entity.js';
import type { RotationFence, RotationKeycloakPort, RotationNotifierPort, RotationStorePort, RotationVaultPort } from './rotation.ports.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** One pass of the machine on one account: who acts, and the lease check before each Keycloak step. */
export interface RotationRun {
  context: OperationContext;
  fence: RotationFence;
}

/** Steps after which the new secret is not yet announced: a crash there leaves a rotation to resume. */
export const UNFINISHED_STEPS: readonly SecretRotationStep[] = ['intent', 'regenerated', 'stored', 'verified'];

/** Is a rotation of the account's secret under way (it owns the secret until it is announced)? */
export function rotationUnderWay(row: Pick<ServiceAccountEntity, 'secretRotationStep'>): boolean {
  return row.secretRotationStep !== null && UNFINISHED_STEPS.includes(row.secretRotationStep);
}

/**
 * The secret-rotation state machine, one per account row, shared by `POST .../secret/rotate`, the
 * `secret-rotation` job and recovery. Write-ahead: the intent is on the row before Keycloak is
 * asked for anything, so a crash at any line leaves a rotation on record.
 *
 *   intent   → Keycloak regenerates (only if it still holds the stored secret) → stored
 *   stored   → a client-credentials request proves the stored secret            → verified
 *   verified → audited and announced, grace window set                          → notified
 *   notified → after the grace window Keycloak ends the rotated secret          → (none)
 *
 * Keycloak keeps one rotated secret, and its rotation executor regenerates an expired secret on
 * any admin update, so the machine never regenerates blindly: it reads the current (and rotated)
 * secret and decides from what Keycloak holds against what Keysmith stores. It never invalidates
 * the stored secret: before ending the rotated one it checks that the stored one is current.
 */
export class RotateSecretUseCase {
  constructor(
    private readonly keycloak: RotationKeycloakPort,
    private readonly store: RotationStorePort,
    private readonly vault: RotationVaultPort,
    private readonly notifier: RotationNotifierPort,
    private readonly clock: Clock,
    private readonly newRotationId: () => string,
  ) {}

  /**
   * Records the intent of a new rotation, then drives it. `graceHours` 0 ends the previous secret
   * at once. `regenerate` asks Keycloak for a new secret even when it holds one Keysmith does not
   * store (a repair: that one is not Keysmith's to hand out).
   */
  async start(run: RotationRun, row: ServiceAccountEntity, graceHours: number, options: { regenerate?: boolean } = {}): Promise<void> {
    if (!row.secretCiphertext) {
      // Nothing stored yet (accounts from before secrets were stored): store what Keycloak holds first.
      await run.fence('read client secret');
      await this.save(run, row, { secretCiphertext: this.vault.encrypt(await this.keycloak.currentSecret(row.realm, row.clientId), row.id) });
    }
    if (row.secretRotationStep === 'notified') {
      // Keycloak keeps one rotated secret: this rotation ends the previous one's grace window now.
      await this.notify(run, row, { type: 'previous-invalidated', rotationId: row.secretRotationId });
    }
    await this.save(run, row, {
      secretRotationStep: 'intent',
      secretRotationId: this.newRotationId(),
      secretRotationGraceHours: graceHours,
      previousSecretValidUntil: null,
    });
    await faultPoint('rotate.intent-recorded');
    await this.drive(run, row, options.regenerate);
  }

  /** Drives the row from wherever it stands, ending the previous secret when its grace window is over. */
  async drive(run: RotationRun, row: ServiceAccountEntity, forceRegenerate = false): Promise<void> {
    if (row.secretRotationStep === 'intent' || row.secretRotationStep === 'regenerated') await this.regenerate(run, row, forceRegenerate);
    if (row.secretRotationStep === 'stored') await this.prove(run, row);
    if (row.secretRotationStep === 'verified') await this.announce(run, row);
    if (row.secretRotationStep === 'notified' && this.graceOver(row)) await this.endPrevious(run, row);
  }

  /**
   * Every row write and notice of the machine is fenced, as every Keycloak step is: an instance
   * paused past its lease (which another instance may have taken, and moved the rotation on) writes
   * nothing more, where a late write would store a secret Keycloak had since replaced.
   */
  private async save(run: RotationRun, row: ServiceAccountEntity, changes: Partial<ServiceAccountEntity>): Promise<void> {
    await run.fence('record the rotation step');
    await this.store.save(row, changes);
  }

  private async notify(run: RotationRun, row: ServiceAccountEntity, notice: Parameters<RotationNotifierPort['notify']>[2]): Promise<void> {
    await run.fence(`announce ${notice.type}`);
    await this.notifier.notify(run.context, row, notice);
  }

  graceOver(row: ServiceAccountEntity): boolean {
    return row.previousSecretValidUntil !== null && row.previousSecretValidUntil.getTime() <= this.clock.nowMs();
  }

  storedSecret(row: ServiceAccountEntity): string {
    return this.vault.decrypt(row.secretCiphertext!, row.id);
  }

  /** intent → stored: a new secret from Keycloak, unless it already has one this row does not store. */
  private async regenerate(run: RotationRun, row: ServiceAccountEntity, force: boolean): Promise<void> {
    const stored = this.storedSecret(row);
    await run.fence('read client secret');
    const current = await this.keycloak.currentSecret(row.realm, row.clientId);
    let secret: string;
    if (current === stored || force) {
      // Keycloak still holds the stored secret: this rotation has not reached it yet.
      await run.fence('regenerate client secret');
      secret = await this.keycloak.regenerate(row.realm, row.clientId);
      await faultPoint('rotate.regenerated');
    } else {
      // Keycloak moved on (this rotation's regeneration before a crash, or its own executor):
      // take its current secret instead of regenerating, which would end the stored one.
      secret = current;
      const rotated = await this.keycloak.rotatedSecret(row.realm, row.clientId);
      if (rotated !== stored && row.secretRotationGraceHours !== 0) {
        await this.notify(run, row, { type: 'mismatch-adopted', rotationId: row.secretRotationId, reason: 'stored secret no longer held by Keycloak' });
      }
    }
    await this.save(run, row, { secretCiphertext: this.vault.encrypt(secret, row.id), secretRotationStep: 'stored' });
    await faultPoint('rotate.stored');
  }

  /** stored → verified: a real client-credentials request with the stored secret. */
  private async prove(run: RotationRun, row: ServiceAccountEntity): Promise<void> {
    const stored = this.storedSecret(row);
    if (!(await this.keycloak.accepts(row.realm, row.clientId, stored))) {
      // Refused: Keycloak may have regenerated on its own meanwhile; its current secret is the one to keep.
      await run.fence('read client secret');
      const current = await this.keycloak.currentSecret(row.realm, row.clientId);
      if (current === stored || !(await this.keycloak.accepts(row.realm, row.clientId, current))) {
        throw new DomainError(ErrorCode.SecretRotationFailed, `The new secret of ${row.clientId} was refused by Keycloak; the rotation is retried on the next run.`);
      }
      await this.save(run, row, { secretCiphertext: this.vault.encrypt(current, row.id) });
      await this.notify(run, row, { type: 'mismatch-adopted', rotationId: row.secretRotationId, reason: 'stored secret refused by Keycloak' });
    }
    await this.save(run, row, { secretRotationStep: 'verified' });
    await faultPoint('rotate.verified');
  }

  /** verified → notified: audit and webhook, the grace window of the previous secret starts. */
  private async announce(run: RotationRun, row: ServiceAccountEntity): Promise<void> {
    const now = this.clock.now();
    const graceHours = row.secretRotationGraceHours ?? row.rotationGraceHours;
    const previousSecretValidUntil = new Date(now.getTime() + graceHours * HOUR_MS);
    await this.notify(run, row, { type: 'rotated', graceHours, previousSecretValidUntil, rotationId: row.secretRotationId ?? '', adopted: false });
    await this.save(run, row, {
      secretRotationStep: 'notified',
      previousSecretValidUntil,
      lastRotatedAt: now,
      nextRotationAt: new Date(now.getTime() + row.rotationEveryDays * DAY_MS),
      secretRotationFailures: 0,
      secretRotationError: null,
    });
    await faultPoint('rotate.notified');
  }

  /** notified → none: the grace window is over; Keycloak ends the rotated secret, never the stored one. */
  private async endPrevious(run: RotationRun, row: ServiceAccountEntity): Promise<void> {
    const stored = this.storedSecret(row);
    await run.fence('read client secret');
    const current = await this.keycloak.currentSecret(row.realm, row.clientId);
    if (current !== stored) {
      // Keycloak's executor regenerated meanwhile: the stored secret is now its rotated one, so
      // ending that would end the stored secret. Adopt the current one; the previous gets a new window.
      await this.notify(run, row, { type: 'mismatch-adopted', rotationId: row.secretRotationId, reason: 'Keycloak regenerated the secret by itself' });
      await this.save(run, row, { secretCiphertext: this.vault.encrypt(current, row.id), secretRotationStep: 'stored', secretRotationGraceHours: row.rotationGraceHours });
      await this.prove(run, row);
      await this.announce(run, row);
      return;
    }
    await run.fence('invalidate rotated client secret');
    await this.keycloak.invalidateRotated(row.realm, row.clientId);
    await faultPoint('rotate.previous-invalidated');
    const rotationId = row.secretRotationId;
    await this.save(run, row, { secretRotationStep: null, previousSecretValidUntil: null, secretRotationGraceHours: null, secretRotationId: null });
    await this.notify(run, row, { type: 'previous-invalidated', rotationId });
  }
}
