import type { OperationContext } from '../../common/context/operation-context.js';
import type { ServiceAccountView } from '../service-account.view.js';

/**
 * The API keys of an account, as deleting it needs them, bound to api-keys' `KeyRevocation` in
 * `src/app.ports.ts`: every key still live is revoked (and audited) before the row is marked
 * deleted, so no interruption can leave live keys behind an account that is gone. Keys name their
 * account by realm and clientId, so such a key would pass again for a later account of the same
 * clientId.
 */
export abstract class AccountKeys {
  /** Revokes every live key of the account; returns how many. Revoking none is not an error. */
  abstract revokeAllOf(context: OperationContext, account: Pick<ServiceAccountView, 'realm' | 'clientId' | 'owner'>, reason: string): Promise<number>;
}
