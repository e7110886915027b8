import type { OperationContext } from '../../../common/context/operation-context.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';

/** What the rotation state machine asks of Keycloak, by realm and clientId (never a Keycloak id nor a raw admin client). */
export interface RotationKeycloakPort {
  /** The client's current secret. */
  currentSecret(realm: string, clientId: string): Promise<string>;
  /** The previous secret Keycloak still accepts ("rotated"), or null when it holds none. */
  rotatedSecret(realm: string, clientId: string): Promise<string | null>;
  /** A new secret; with the rotation executor on, the current one becomes the (only) rotated one. */
  regenerate(realm: string, clientId: string): Promise<string>;
  /** Ends the rotated secret now; none left counts as done. */
  invalidateRotated(realm: string, clientId: string): Promise<void>;
  /** A real client-credentials request with this secret: does Keycloak accept it? */
  accepts(realm: string, clientId: string, secret: string): Promise<boolean>;
}

/** Where the machine persists each step: the account row. */
export interface RotationStorePort {
  save(row: ServiceAccountEntity, changes: Partial<ServiceAccountEntity>): Promise<void>;
}

/** Encryption of the stored secret, bound to the account id. */
export interface RotationVaultPort {
  encrypt(secret: string, accountId: string): string;
  decrypt(ciphertext: string, accountId: string): string;
}

export type RotationNotice =
  | { type: 'rotated'; graceHours: number; previousSecretValidUntil: Date; rotationId: string; adopted: boolean }
  | { type: 'previous-invalidated'; rotationId: string | null }
  /** Keycloak held a secret other than the stored one; the machine adopted Keycloak's current one. */
  | { type: 'mismatch-adopted'; rotationId: string | null; reason: string };

/** Audit events, webhooks and in-process notifications of a rotation's milestones. */
export interface RotationNotifierPort {
  notify(context: OperationContext, row: ServiceAccountEntity, notice: RotationNotice): Promise<void>;
}

/** Renews the account's lease, or throws when it was lost (expired, taken over), naming the next step. */
export type RotationFence = (step: string) => Promise<void>;

/**
 * The per-account lease shared across instances. `body` runs while this process holds the
 * account; the machine calls the fence before every Keycloak step so a paused instance never
 * writes after its lease ended.
 */
export interface AccountLeasePort {
  /** Waits for the lease (a bounded time, then ACCOUNT_BUSY). */
  withAccount<T>(realm: string, clientId: string, body: (fence: RotationFence) => Promise<T>): Promise<T>;
  /** Runs only when nobody holds the account now (recovery); false when someone does. */
  tryWithAccount(realm: string, clientId: string, body: (fence: RotationFence) => Promise<void>): Promise<boolean>;
}

export const ACCOUNT_LEASE = Symbol('ACCOUNT_LEASE');
