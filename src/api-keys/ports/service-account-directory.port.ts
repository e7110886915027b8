import type { OperationContext } from '../../common/context/operation-context.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';

/**
 * What API keys need from the service-accounts feature, bound to `ServiceAccountsService` in
 * `src/app.ports.ts`, so this feature never reads the service-account table itself.
 */
export abstract class ServiceAccountDirectory {
  /** The live account, without an owner check; null when absent or deleted. */
  abstract findLive(realm: string, clientId: string): Promise<ServiceAccountView | null>;
  /** The live account within the caller's owner boundary; 404 SERVICE_ACCOUNT_NOT_FOUND otherwise. */
  abstract get(context: OperationContext, realm: string, clientId: string): Promise<ServiceAccountView>;
  /** Every live account of a realm, without an owner check. */
  abstract listAll(realm: string): Promise<ServiceAccountView[]>;
  /**
   * Runs `body` holding the account's lease, the lock every change to the account takes (its
   * deletion among them), waiting for another holder as a change does (409 ACCOUNT_BUSY past that).
   */
  abstract whileHeld<T>(realm: string, clientId: string, body: () => Promise<T>): Promise<T>;
}
