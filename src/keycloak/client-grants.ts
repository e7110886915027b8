/**
 * Set differences between the grants a service-account client should have and those Keycloak
 * holds, by name. Pure functions: the gateway turns a diff into Admin REST calls.
 */
export interface Grants {
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  defaultScopes: string[];
  optionalScopes: string[];
}

export type ActualGrants = Grants;

export interface SetDiff {
  add: string[];
  remove: string[];
}

export interface GrantDiff {
  realmRoles: SetDiff;
  clientRoles: Record<string, SetDiff>;
  defaultScopes: SetDiff;
  optionalScopes: SetDiff;
}

export function setDiff(desired: Iterable<string>, actual: Iterable<string>): SetDiff {
  const want = new Set(desired);
  const have = new Set(actual);
  return { add: [...want].filter((x) => !have.has(x)).sort(), remove: [...have].filter((x) => !want.has(x)).sort() };
}

function perClient(desired: Record<string, string[]>, actual: Record<string, string[]>): Record<string, SetDiff> {
  const clients = new Set([...Object.keys(desired), ...Object.keys(actual)]);
  const result: Record<string, SetDiff> = {};
  for (const client of [...clients].sort()) {
    const diff = setDiff(desired[client] ?? [], actual[client] ?? []);
    if (diff.add.length || diff.remove.length) result[client] = diff;
  }
  return result;
}

export function diffGrants(desired: Grants, actual: ActualGrants): GrantDiff {
  return {
    realmRoles: setDiff(desired.realmRoles, actual.realmRoles),
    clientRoles: perClient(desired.clientRoles, actual.clientRoles),
    defaultScopes: setDiff(desired.defaultScopes, actual.defaultScopes),
    optionalScopes: setDiff(desired.optionalScopes, actual.optionalScopes),
  };
}

export function isEmptyDiff(diff: GrantDiff): boolean {
  const empty = (d: SetDiff) => d.add.length === 0 && d.remove.length === 0;
  return (
    empty(diff.realmRoles) &&
    empty(diff.defaultScopes) &&
    empty(diff.optionalScopes) &&
    Object.keys(diff.clientRoles).length === 0
  );
}

