import type { Definition } from './definition.schema.js';
import type { DefinitionCheck, FieldPath } from './definition-loader.js';

/** What a guard-rail policy answers: the grants it forbids, named `realm:<role>`, `client:<client>:<role>`, `scope:<name>`. */
export interface GrantGuard {
  forbidden(request: { realmRoles: string[]; clientRoles: Record<string, string[]>; scopes: string[] }): string[];
}

/** Each grant of a definition with its name and the field that holds it. */
export function grantsOf(definition: Definition): { grant: string; path: FieldPath }[] {
  const spec = definition.spec;
  return [
    ...spec.realmRoles.map((role, index) => ({ grant: `realm:${role}`, path: ['spec', 'realmRoles', index] })),
    ...Object.entries(spec.clientRoles).flatMap(([client, roles]) =>
      roles.map((role, index) => ({ grant: `client:${client}:${role}`, path: ['spec', 'clientRoles', client, index] })),
    ),
    ...spec.defaultScopes.map((scope, index) => ({ grant: `scope:${scope}`, path: ['spec', 'defaultScopes', index] })),
    ...spec.optionalScopes.map((scope, index) => ({ grant: `scope:${scope}`, path: ['spec', 'optionalScopes', index] })),
  ];
}

/** The guard rails as a definition check: every forbidden grant is a problem at its own field. */
export function grantCheck(guard: GrantGuard): DefinitionCheck {
  return (definition) => {
    const spec = definition.spec;
    const forbidden = new Set(
      guard.forbidden({ realmRoles: spec.realmRoles, clientRoles: spec.clientRoles, scopes: [...spec.defaultScopes, ...spec.optionalScopes] }),
    );
    return grantsOf(definition)
      .filter(({ grant }) => forbidden.has(grant))
      .map(({ grant, path }) => ({ path, message: `${grant} is forbidden by the guard-rail policy` }));
  };
}
