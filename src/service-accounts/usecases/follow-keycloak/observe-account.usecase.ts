import { Injectable, Logger } from '@nestjs/common';
import { In } from 'typeorm';
import { AuditService } from '../../../audit/index.js';
import type { OperationContext } from '../../../common/context/operation-context.js';
import { DomainError } from '../../../common/errors/domain-error.js';
import { ErrorCode } from '../../../common/errors/error-code.js';
import { Clock } from '../../../common/time/clock.js';
import { AppConfig } from '../../../config/app-config.js';
import { KeycloakClientsGateway, secretDigest, type ManagedClientSnapshot } from '../../../keycloak/index.js';
import { SecretVault } from '../../../secrets/index.js';
import { WebhooksService } from '../../../webhooks/index.js';
import { specOf } from '../../account-spec.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { observedChanges, sameObservation, type KeycloakObservation, type ObservedChange } from '../../keycloak-observation.js';
import { KeycloakChanges } from '../../ports/keycloak-changes.port.js';
import { AccountKeys } from '../../ports/account-keys.port.js';
import { ServiceAccountEvents } from '../../service-account.events.js';
import { toServiceAccountView } from '../../service-account.view.js';
import { AccountRows } from '../../services/account-rows.js';
import { SpecChecker } from '../../services/spec-checker.js';
import { SecretHealthService } from '../check-secret-health/secret-health.service.js';
import { rotationUnderWay } from '../rotate-secret/rotate-secret.usecase.js';
import { ReconcileAccountUseCase, type AccountDiff } from '../reconcile-account.usecase.js';

/** What one observation of an account found. */
export type ObservationOutcome = 'unchanged' | 'changed' | 'orphaned' | 'skipped';

/**
 * Records what Keycloak holds for one account where it differs from the account's spec (changes
 * made in Keycloak directly), so that keys follow: a disabled client refuses its keys, removed
 * scopes are lost, a deleted client orphans the account (audited, sent as a webhook, its keys
 * revoked unless KEYSMITH_ORPHANED_ACCOUNT_KEYS=keep), a secret regenerated in Keycloak is checked
 * like the secret health check does. Every change is published, so cached verifications drop.
 */
@Injectable()
export class ObserveAccountUseCase {
  private readonly logger = new Logger(ObserveAccountUseCase.name);

  constructor(
    private readonly rows: AccountRows,
    private readonly reconcile: ReconcileAccountUseCase,
    private readonly checker: SpecChecker,
    private readonly gateway: KeycloakClientsGateway,
    private readonly changes: KeycloakChanges,
    private readonly vault: SecretVault,
    private readonly secretHealth: SecretHealthService,
    private readonly events: ServiceAccountEvents,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly keys: AccountKeys,
  ) {}

  /** Reads the account's client in full (fields, scopes, roles): after an admin event about it. */
  async fromKeycloak(context: OperationContext, row: ServiceAccountEntity, options: { secret?: boolean } = {}): Promise<ObservationOutcome> {
    if (row.state !== 'ready') return 'skipped';
    const spec = specOf(row);
    let diff: AccountDiff;
    try {
      diff = await this.reconcile.diff(row, spec, await this.checker.resolveCatalog(row.realm, spec));
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.AccountOrphaned) return this.orphanIfGone(context, row);
      throw error;
    }
    const held = new Set([...diff.current.grants.defaultScopes, ...diff.current.grants.optionalScopes]);
    let reported = row.keycloakObserved?.reportedSecretDigest;
    if (options.secret) reported = await this.checkSecret(context, row, secretDigest(await this.gateway.clientSecret(row.realm, row.clientId)), reported);
    return this.record(context, row, {
      disabled: row.enabled && !diff.current.enabled,
      missingScopes: [...spec.defaultScopes, ...spec.optionalScopes].filter((scope) => !held.has(scope)),
      drift: observedChanges(diff.changes),
      reportedSecretDigest: reported,
    });
  }

  /**
   * From a sweep's page: existence, enabled flag, scopes and the secret. Roles are not in a page;
   * what a full read saw of them is kept until the next full read.
   */
  async fromSnapshot(context: OperationContext, row: ServiceAccountEntity, client: ManagedClientSnapshot | undefined): Promise<ObservationOutcome> {
    if (row.state !== 'ready') return 'skipped';
    if (!client) return this.orphanIfGone(context, row);
    const spec = specOf(row);
    const held = new Set(client.scopes);
    const missingScopes = [...spec.defaultScopes, ...spec.optionalScopes].filter((scope) => !held.has(scope));
    const wanted = new Set([...spec.defaultScopes, ...spec.optionalScopes, ...this.config.baseClientScopes]);
    const seen: ObservedChange[] = [
      ...(client.enabled !== row.enabled ? [{ field: 'enabled', action: 'set' as const, from: client.enabled, to: row.enabled, origin: 'keycloak' as const }] : []),
      ...missingScopes.map((value) => ({ field: spec.defaultScopes.includes(value) ? 'defaultScopes' : 'optionalScopes', action: 'add' as const, value, origin: 'keycloak' as const })),
      ...client.scopes.filter((scope) => !wanted.has(scope)).map((value) => ({ field: 'scopes', action: 'remove' as const, value, origin: 'keycloak' as const })),
    ];
    const others = (row.keycloakObserved?.drift ?? []).filter((change) => !['enabled', 'defaultScopes', 'optionalScopes', 'scopes'].includes(change.field));
    const reported = client.secretDigest ? await this.checkSecret(context, row, client.secretDigest, row.keycloakObserved?.reportedSecretDigest) : row.keycloakObserved?.reportedSecretDigest;
    return this.record(context, row, { disabled: row.enabled && !client.enabled, missingScopes, drift: [...seen, ...others], reportedSecretDigest: reported });
  }

  /**
   * A secret in Keycloak other than the stored one (regenerated outside Keysmith) is checked and
   * reported as the secret health check does, once per secret; the digest reported is returned.
   */
  private async checkSecret(context: OperationContext, row: ServiceAccountEntity, keycloakDigest: string, reported: string | undefined): Promise<string | undefined> {
    if (!row.secretCiphertext || rotationUnderWay(row)) return reported;
    if (secretDigest(this.vault.decrypt(row.secretCiphertext, row.id)) === keycloakDigest) return undefined;
    if (reported === keycloakDigest) return reported;
    // The row was read before Keycloak was: another instance may have rotated the secret meanwhile
    // (its intent is stored first, its new secret right after Keycloak's). Judge by the row as it is now.
    const fresh = await this.rows.repository.findOneBy({ id: row.id });
    if (!fresh?.secretCiphertext || rotationUnderWay(fresh)) return reported;
    if (secretDigest(this.vault.decrypt(fresh.secretCiphertext, fresh.id)) === keycloakDigest) return undefined;
    const result = await this.secretHealth.checkAccount(context, fresh);
    this.logger.warn(`the client secret of ${row.realm}/${row.clientId} was regenerated outside Keysmith (secret health: ${result})`);
    return result === 'repaired' ? undefined : keycloakDigest;
  }

  /** Stores what was seen when it differs from what was stored; audits and publishes the change. */
  private async record(context: OperationContext, row: ServiceAccountEntity, seen: Omit<KeycloakObservation, 'checkedAt'>): Promise<ObservationOutcome> {
    const differs = seen.disabled || seen.missingScopes.length > 0 || seen.drift.length > 0 || seen.reportedSecretDigest !== undefined;
    const observation: KeycloakObservation | null = differs ? { checkedAt: this.clock.now().toISOString(), ...withoutUndefined(seen) } : null;
    if (sameObservation(row.keycloakObserved, observation)) return 'unchanged';
    // Only while the spec is the one that was compared: a change through Keysmith meanwhile wins.
    const result = await this.rows.repository.update({ id: row.id, updatedAt: row.updatedAt, state: 'ready' }, { keycloakObserved: observation });
    if (!result.affected) return 'skipped';
    row.keycloakObserved = observation;
    await this.audit.record(context, {
      action: 'service_account.keycloak_changed',
      realm: row.realm,
      clientId: row.clientId,
      target: row.keycloakId,
      detail: { enabled: !seen.disabled, missingScopes: seen.missingScopes, drift: seen.drift },
    });
    await this.events.publish({ type: 'changed', account: toServiceAccountView(row), context });
    return 'changed';
  }

  /**
   * Declares the account orphaned once Keycloak confirms its client is gone: a `ready` account, or
   * one an interrupted update left `updating` (recovery calls this when the client it would update is gone).
   */
  async orphanIfGone(context: OperationContext, row: ServiceAccountEntity): Promise<ObservationOutcome> {
    if (row.keycloakId && (await this.changes.clientExists(row.realm, row.keycloakId))) {
      // Listed as gone but there (created meanwhile, or replaced): the next read decides.
      const current = await this.gateway.readManagedClient(row.realm, row.clientId);
      if (current?.id === row.keycloakId) return 'unchanged';
    }
    const now = this.clock.now();
    const result = await this.rows.repository.update({ id: row.id, state: In(['ready', 'updating']) }, { state: 'orphaned', keycloakObserved: null });
    if (!result.affected) return 'skipped';
    const revoke = this.config.keycloakSync.orphanedKeys === 'revoke';
    const account = toServiceAccountView({ ...row, state: 'orphaned', keycloakObserved: null });
    await this.audit.record(context, {
      action: 'service_account.orphaned',
      outcome: 'failure',
      realm: row.realm,
      clientId: row.clientId,
      target: row.keycloakId,
      detail: { reason: 'the Keycloak client was deleted outside Keysmith', keys: revoke ? 'revoked' : 'refused', at: now.toISOString() },
    });
    if (revoke) await this.keys.revokeAllOf(context, row, 'the Keycloak client was deleted outside Keysmith');
    await this.webhooks.publish('service_account.orphaned', { realm: row.realm, clientId: row.clientId, owner: row.owner, keys: revoke ? 'revoked' : 'refused' });
    // Every instance drops what it cached of the account (`deleted`: gone for good, as keys go).
    await this.events.publish({ type: revoke ? 'deleted' : 'changed', account, context });
    return 'orphaned';
  }
}

function withoutUndefined(seen: Omit<KeycloakObservation, 'checkedAt'>): Omit<KeycloakObservation, 'checkedAt'> {
  const { reportedSecretDigest, ...rest } = seen;
  return reportedSecretDigest === undefined ? rest : { ...rest, reportedSecretDigest };
}
