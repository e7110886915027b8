import type { ManagedBy } from './entities/service-account.entity.js';

/** Set names follow the clientId rule: lower case, digits and dashes, 3 to 63 characters. */
export const SET_NAME_PATTERN = /^[a-z][a-z0-9-]{2,62}$/;
export const SET_NAME_RULE = 'must match ^[a-z][a-z0-9-]{2,62}$ (like a clientId)';

/**
 * What an apply asks about set ownership: the set it applies (`--set`, null when none was named),
 * the other sets it may take accounts from (`--adopt-from-set`), and whether it takes the
 * unassigned GitOps accounts its definitions name (`--adopt-unassigned`).
 */
export interface SetRequest {
  name: string | null;
  adoptFrom: readonly string[];
  adoptUnassigned: boolean;
}

export type SetTransition =
  /** The account stays in the set it is in (which may be none). */
  | { kind: 'same'; set: string | null }
  /** The account joins `to`: adopted from the API, moved from another set, or assigned from none. */
  | { kind: 'move'; from: string | null; to: string | null }
  /** A GitOps account with no set that this apply updates but leaves unassigned (never pruned). */
  | { kind: 'unassigned' }
  /** The account belongs to another set and the apply did not ask to take it. */
  | { kind: 'conflict'; current: string; detail: string };

/**
 * The one rule for who may apply an existing account, used by plan (to show it) and by the upsert
 * (to enforce it under the account's lock). Moving between sets is never implicit.
 */
export function setTransition(current: { managedBy: ManagedBy | string; gitopsSet: string | null; realm: string; clientId: string }, request: SetRequest): SetTransition {
  if (current.managedBy !== 'gitops') return { kind: 'move', from: null, to: request.name };
  const from = current.gitopsSet;
  if (from === request.name) return { kind: 'same', set: from };
  if (from === null) {
    return request.adoptUnassigned && request.name !== null ? { kind: 'move', from: null, to: request.name } : { kind: 'unassigned' };
  }
  if (request.name !== null && request.adoptFrom.includes(from)) return { kind: 'move', from, to: request.name };
  const account = `${current.realm}/${current.clientId}`;
  const detail =
    request.name === null
      ? `Service account ${account} belongs to the GitOps set ${from}; apply it with --set ${from}.`
      : `Service account ${account} belongs to the GitOps set ${from}, not ${request.name}; apply it with --set ${from}, or move it with --set ${request.name} --adopt-from-set ${from}.`;
  return { kind: 'conflict', current: from, detail };
}
