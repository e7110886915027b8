/**
 * What Keysmith acknowledged during a chaos run, and what it may or may not have done when an
 * answer never came (a killed or stopped instance, a timeout, a 5xx). Only acknowledged facts are
 * checked; an unanswered request widens the set of states the campaign accepts.
 */
export interface Grants {
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  defaultScopes: string[];
  optionalScopes: string[];
}

export type Existence = 'yes' | 'no' | 'unknown';

export interface KeyModel {
  id: string;
  key: string;
  /** `revoked` only once a DELETE was answered 204; `unknown` after an unanswered one. */
  state: 'active' | 'revoked' | 'unknown';
}

export interface AccountModel {
  realm: string;
  clientId: string;
  origin: 'api' | 'gitops';
  /** `yes` once created (201 or CLI exit 0), `no` once a delete was acknowledged. */
  exists: Existence;
  /** Grants Keycloak may hold: one after an acknowledged change, more after unanswered ones. */
  candidates: Grants[];
  keys: KeyModel[];
}

const sorted = (list: string[]) => [...new Set(list)].sort();

export function normalize(grants: Grants): Grants {
  return {
    realmRoles: sorted(grants.realmRoles),
    clientRoles: Object.fromEntries(
      Object.entries(grants.clientRoles)
        .filter(([, roles]) => roles.length > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([client, roles]) => [client, sorted(roles)]),
    ),
    defaultScopes: sorted(grants.defaultScopes),
    optionalScopes: sorted(grants.optionalScopes),
  };
}

export function sameGrants(a: Grants, b: Grants): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

export function addCandidate(account: AccountModel, grants: Grants): void {
  if (!account.candidates.some((known) => sameGrants(known, grants))) account.candidates.push(normalize(grants));
}

/** The grants a PATCH body asks for, applied to a known state. */
export interface GrantChange {
  field: 'realmRoles' | 'defaultScopes' | 'optionalScopes' | 'clientRoles';
  op: 'add' | 'remove';
  name: string;
  client?: string;
}

export function applyChange(grants: Grants, change: GrantChange): Grants {
  const next = normalize(grants);
  if (change.field === 'clientRoles') {
    const roles = next.clientRoles[change.client!] ?? [];
    next.clientRoles[change.client!] = change.op === 'add' ? [...roles, change.name] : roles.filter((r) => r !== change.name);
  } else {
    next[change.field] = change.op === 'add' ? [...next[change.field], change.name] : next[change.field].filter((r) => r !== change.name);
  }
  return normalize(next);
}

export function patchBody(change: GrantChange): Record<string, unknown> {
  if (change.field === 'clientRoles') return { clientRoles: { [change.op]: { [change.client!]: [change.name] } } };
  return { [change.field]: { [change.op]: [change.name] } };
}

/** Scopes every candidate state holds: what a key may be issued with whichever state is real. */
export function certainScopes(account: AccountModel): string[] {
  const [first, ...rest] = account.candidates.map((c) => [...c.defaultScopes, ...c.optionalScopes]);
  return (first ?? []).filter((scope) => rest.every((other) => other.includes(scope)));
}
