import { z } from 'zod';
/**
 * Grant diffs as callers see them: the pure set differences live beside the gateway that applies
 * them (src/keycloak/client-grants.ts); this file turns them and plain fields into change lists.
 */
import type { GrantDiff, SetDiff } from '../../keycloak/index.js';

export { diffGrants, isEmptyDiff, setDiff } from '../../keycloak/index.js';

/** One change as callers see it in `changes`, plans and audit details. */
export const changeSchema = z
  .object({
    field: z.string().meta({ example: 'realmRoles' }),
    action: z.enum(['add', 'remove', 'set']),
    value: z.string().optional().meta({ example: 'orders-writer' }).describe('The role or scope added or removed'),
    from: z.unknown().optional(),
    to: z.unknown().optional(),
    origin: z
      .enum(['keycloak'])
      .optional()
      .describe('`keycloak`: the difference was made in Keycloak directly (plans show `(changed in Keycloak)`); applying the spec changes it back'),
  })
  .meta({ title: 'Change' });

export type Change = z.infer<typeof changeSchema>;

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
