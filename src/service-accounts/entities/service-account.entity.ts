import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { KeycloakObservation } from '../keycloak-observation.js';

export type ManagedBy = 'api' | 'gitops';
/**
 * `provisioning`: the Keycloak client may exist partly; start-up or the next call removes it.
 * `ready`: Keycloak and this row agree. `updating`: the row holds a desired spec not yet fully
 * applied; start-up or the next call re-applies it. `deleting`: the client is being removed.
 * `deleted`: gone from Keycloak; the row stays for history and for key revocation.
 * `orphaned`: the client was deleted in Keycloak behind Keysmith's back; its keys are refused
 * (and revoked, by default) until the account is deleted.
 */
export type ServiceAccountState = 'provisioning' | 'ready' | 'updating' | 'deleting' | 'deleted' | 'orphaned';

/**
 * Steps of a secret rotation, persisted one by one so a crash can resume it: `intent` is written
 * before Keycloak is asked for anything (`regenerated` is an older name of the same step).
 */
export type SecretRotationStep = 'intent' | 'regenerated' | 'stored' | 'verified' | 'notified';

export interface RateLimitPolicy {
  requests: number;
  perSeconds: number;
}

/** Keysmith's record of one Keycloak service-account client it made. */
@Entity('service_accounts')
@Index('IDX_service_accounts_realm_client', ['realm', 'clientId'])
@Index('IDX_service_accounts_owner', ['owner'])
@Index('IDX_service_accounts_gitops_set', ['realm', 'gitopsSet'])
@Index('IDX_service_accounts_keycloak_id', ['realm', 'keycloakId'])
// One live account per realm and clientId; deleted rows stay for history.
@Index('UQ_service_accounts_live', ['realm', 'clientId'], { unique: true, where: '"deleted_at" IS NULL' })
export class ServiceAccountEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  realm: string;

  @Column({ name: 'client_id', type: 'varchar', length: 63 })
  clientId: string;

  @Column({ name: 'keycloak_id', type: 'varchar', length: 64, nullable: true })
  keycloakId: string | null;

  @Column({ type: 'varchar', length: 500, default: '' })
  description: string;

  @Column({ type: 'varchar', length: 100 })
  owner: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'realm_roles', type: 'simple-json' })
  realmRoles: string[];

  @Column({ name: 'client_roles', type: 'simple-json' })
  clientRoles: Record<string, string[]>;

  @Column({ name: 'default_scopes', type: 'simple-json' })
  defaultScopes: string[];

  @Column({ name: 'optional_scopes', type: 'simple-json' })
  optionalScopes: string[];

  @Column({ name: 'rotation_every_days', type: 'integer', default: 90 })
  rotationEveryDays: number;

  @Column({ name: 'rotation_grace_hours', type: 'integer', default: 24 })
  rotationGraceHours: number;

  @Column({ name: 'last_rotated_at', type: 'datetime', nullable: true })
  lastRotatedAt: Date | null;

  @Column({ name: 'next_rotation_at', type: 'datetime', nullable: true })
  nextRotationAt: Date | null;

  @Column({ name: 'key_default_ttl_days', type: 'integer', default: 90 })
  keyDefaultTtlDays: number;

  @Column({ name: 'key_max_ttl_days', type: 'integer', default: 90 })
  keyMaxTtlDays: number;

  @Column({ name: 'key_rate_limit', type: 'simple-json', nullable: true })
  keyRateLimit: RateLimitPolicy | null;

  /** Keys of this account may be traded for a Keycloak access token (POST /v1/token). */
  @Column({ name: 'key_token_exchange', type: 'boolean', default: false })
  keyTokenExchange: boolean;

  @Column({ name: 'managed_by', type: 'varchar', length: 10, default: 'api' })
  managedBy: ManagedBy;

  /**
   * The GitOps set whose applies own this account (`keysmith apply --set`); `--prune` deletes only
   * accounts of its own set. Null for API-made accounts, and for GitOps accounts made before sets
   * existed or by an apply without `--set` (unassigned: never pruned).
   */
  @Column({ name: 'gitops_set', type: 'varchar', length: 63, nullable: true })
  gitopsSet: string | null;

  /** Where the last change came from, such as a GitOps commit sha. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  source: string | null;

  /** Hash of the last applied spec, also stamped on the Keycloak client. */
  @Column({ name: 'spec_hash', type: 'varchar', length: 64, default: '' })
  specHash: string;

  @Column({ type: 'varchar', length: 16, default: 'provisioning' })
  state: ServiceAccountState;

  /** The current client secret, AES-256-GCM under a key derived from the master key. */
  @Column({ name: 'secret_ciphertext', type: 'text', nullable: true })
  secretCiphertext: string | null;

  /** The last completed step of a rotation in progress (see RotateSecretUseCase), or null. */
  @Column({ name: 'secret_rotation_step', type: 'varchar', length: 16, nullable: true })
  secretRotationStep: SecretRotationStep | null;

  /** The id of the rotation in progress, recorded with its intent. */
  @Column({ name: 'secret_rotation_id', type: 'varchar', length: 40, nullable: true })
  secretRotationId: string | null;

  @Column({ name: 'secret_rotation_grace_hours', type: 'integer', nullable: true })
  secretRotationGraceHours: number | null;

  @Column({ name: 'previous_secret_valid_until', type: 'datetime', nullable: true })
  previousSecretValidUntil: Date | null;

  @Column({ name: 'secret_rotation_failures', type: 'integer', default: 0 })
  secretRotationFailures: number;

  @Column({ name: 'secret_rotation_error', type: 'varchar', length: 200, nullable: true })
  secretRotationError: string | null;

  /** What Keysmith last saw in Keycloak where it differs from the spec (see KeycloakObservation); null: nothing differs. */
  @Column({ name: 'keycloak_observed', type: 'simple-json', nullable: true })
  keycloakObserved: KeycloakObservation | null;

  @Column({ name: 'created_at', type: 'datetime' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime' })
  updatedAt: Date;

  @Column({ name: 'deleted_at', type: 'datetime', nullable: true })
  deletedAt: Date | null;
}
