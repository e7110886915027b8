import type { OperationContext } from '../context/operation-context.js';
import { API_SCOPES } from './scopes.decorator.js';

/** The last set keysmithScopes made: every caller asks with the one configured admin scope. */
let ownScopes: { adminScope: string | null; scopes: ReadonlySet<string> } = { adminScope: null, scopes: new Set() };

/** Keysmith's own scopes: the API scopes plus the admin scope that lifts the owner boundary. */
export function keysmithScopes(adminScope: string): ReadonlySet<string> {
  if (ownScopes.adminScope !== adminScope) ownScopes = { adminScope, scopes: new Set<string>([...API_SCOPES, adminScope]) };
  return ownScopes.scopes;
}

/**
 * The scopes among `requested` that are Keysmith's own and that the caller does not hold itself,
 * so it may not hand them on to an account or a key. Operator paths (callerScopes null) hold all.
 */
export function keysmithScopesBeyondCaller(context: Pick<OperationContext, 'callerScopes'>, requested: Iterable<string>, adminScope: string): string[] {
  if (context.callerScopes === null) return [];
  const own = keysmithScopes(adminScope);
  const held = new Set(context.callerScopes);
  return [...new Set(requested)].filter((scope) => own.has(scope) && !held.has(scope));
}
