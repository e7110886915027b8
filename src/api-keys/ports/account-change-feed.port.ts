import type { OperationContext } from '../../common/context/operation-context.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';

/** A change to a service account, as API keys react to it. */
export type AccountChange =
  /** A new account: no key can be linked to it yet. */
  | { type: 'created'; account: ServiceAccountView; context: OperationContext }
  | { type: 'changed'; account: ServiceAccountView; context: OperationContext }
  | { type: 'deleted'; account: ServiceAccountView; context: OperationContext }
  | { type: 'secret-rotated'; account: ServiceAccountView; context: OperationContext };

/**
 * What API keys need to hear from the service-accounts feature: that an account was made (it has
 * no keys yet: nothing to re-check), changed (drop cached verifications, re-check scopes), had its
 * client secret rotated (the same), or was deleted (revoke its keys).
 */
export abstract class AccountChangeFeed {
  abstract subscribe(listener: (event: AccountChange) => Promise<void> | void): void;
}
