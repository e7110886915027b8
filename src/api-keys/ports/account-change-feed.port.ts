import type { OperationContext } from '../../common/context/operation-context.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';

/** A change to a service account, as API keys react to it. */
export type AccountChange =
  | { type: 'changed'; account: ServiceAccountView; context: OperationContext }
  | { type: 'deleted'; account: ServiceAccountView; context: OperationContext }
  | { type: 'secret-rotated'; account: ServiceAccountView; context: OperationContext };

/**
 * What API keys need to hear from the service-accounts feature: that an account changed (drop
 * cached verifications, re-check scopes), had its client secret rotated (the same), or was deleted
 * (revoke its keys).
 */
export abstract class AccountChangeFeed {
  abstract subscribe(listener: (event: AccountChange) => Promise<void> | void): void;
}
