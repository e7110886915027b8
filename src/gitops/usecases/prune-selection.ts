import type { ServiceAccountView } from '../../service-accounts/index.js';
import { accountKey } from './desired-accounts.js';

export interface PruneScope {
  /** The set the apply owns; null when none was named (nothing is then ever pruned). */
  set: string | null;
  /** A caller confined to one owner sees only that owner's accounts. */
  owner: string | null;
}

export interface PruneSelection {
  /** Accounts of the apply's own set that no definition names: deleted with --prune. */
  candidates: ServiceAccountView[];
  /** GitOps accounts with no set that no definition names: reported, never pruned. */
  unassigned: ServiceAccountView[];
}

/**
 * Which existing accounts a bundle would prune. Only GitOps-managed accounts of the same set are
 * candidates: accounts made through the API, accounts of other sets, unassigned accounts and (for an
 * owner-confined caller) other owners' accounts never are.
 */
export function selectPrune(existing: Iterable<ServiceAccountView>, wanted: ReadonlySet<string>, scope: PruneScope): PruneSelection {
  const candidates: ServiceAccountView[] = [];
  const unassigned: ServiceAccountView[] = [];
  for (const account of existing) {
    if (account.managedBy !== 'gitops' || wanted.has(accountKey(account.realm, account.clientId))) continue;
    if (scope.owner && account.owner !== scope.owner) continue;
    if (account.gitopsSet === null) unassigned.push(account);
    else if (scope.set !== null && account.gitopsSet === scope.set) candidates.push(account);
  }
  const byName = (a: ServiceAccountView, b: ServiceAccountView) => a.realm.localeCompare(b.realm) || a.clientId.localeCompare(b.clientId);
  return { candidates: candidates.sort(byName), unassigned: unassigned.sort(byName) };
}
