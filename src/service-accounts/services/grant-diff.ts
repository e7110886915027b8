import { z } from 'zod';
/**
 * Set differences between the grants a service account should have and those Keycloak holds,
 * by name. Pure functions: the service turns a diff into Admin REST calls and a change list.
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

/** One change as callers see it in `changes`, plans and audit details. */
export const changeSchema = z
  .object({
    field: z.string().meta({ example: 'realmRoles' }),
    action: z.enum(['add', 'remove', 'set']),
    value: z.string().optional().meta({ example: 'orders-writer' }).describe('The role or scope added or removed'),
    from: z.unknown().optional(),
    to: z.unknown().optional(),
  })
  .meta({ title: 'Change' });

export type Change = z.infer<typeof changeSchema>;

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

/** The change list of a grant diff, by name. */
export function describeGrantDiff(diff: GrantDiff): Change[] {
  const changes: Change[] = [];
  const push = (field: string, d: SetDiff) => {
    for (const value of d.add) changes.push({ field, action: 'add', value });
    for (const value of d.remove) changes.push({ field, action: 'remove', value });
  };
  push('realmRoles', diff.realmRoles);
  for (const [client, d] of Object.entries(diff.clientRoles)) push(`clientRoles.${client}`, d);
  push('defaultScopes', diff.defaultScopes);
  push('optionalScopes', diff.optionalScopes);
  return changes;
}

/** `set` changes for plain fields whose values differ. */
export function describeFieldChanges(fields: Record<string, [unknown, unknown]>): Change[] {
  return Object.entries(fields)
    .filter(([, [from, to]]) => JSON.stringify(from) !== JSON.stringify(to))
    .map(([field, [from, to]]) => ({ field, action: 'set' as const, from, to }));
}
