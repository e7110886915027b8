import { DomainError } from '../../common/errors/domain-error.js';
import type { PatchServiceAccountInput, ServiceAccountSpec } from '../dto/service-account.schemas.js';

/** The spec a PATCH asks for, from the current one: fields replaced, roles and scopes added and removed. */
export function applyPatch(current: ServiceAccountSpec, patch: PatchServiceAccountInput): ServiceAccountSpec {
  const apiKeyPolicy = { ...current.apiKeyPolicy, ...(patch.apiKeyPolicy ?? {}) };
  if (apiKeyPolicy.defaultTtlDays > apiKeyPolicy.maxTtlDays) {
    throw DomainError.validation([{ field: 'apiKeyPolicy.defaultTtlDays', message: 'must not exceed maxTtlDays' }]);
  }
  return {
    description: patch.description ?? current.description,
    owner: patch.owner ?? current.owner,
    enabled: patch.enabled ?? current.enabled,
    realmRoles: applyLists(current.realmRoles, patch.realmRoles),
    clientRoles: applyClientRoles(current.clientRoles, patch.clientRoles),
    defaultScopes: applyLists(current.defaultScopes, patch.defaultScopes),
    optionalScopes: applyLists(current.optionalScopes, patch.optionalScopes),
    secretRotation: { ...current.secretRotation, ...(patch.secretRotation ?? {}) },
    apiKeyPolicy,
  };
}

function applyLists(list: string[], change?: { add: string[]; remove: string[] }): string[] {
  return change ? [...new Set([...list.filter((x) => !change.remove.includes(x)), ...change.add])] : list;
}

function applyClientRoles(current: Record<string, string[]>, change: PatchServiceAccountInput['clientRoles']): Record<string, string[]> {
  const clientRoles = { ...current };
  for (const [client, roles] of Object.entries(change?.add ?? {})) clientRoles[client] = applyLists(clientRoles[client] ?? [], { add: roles, remove: [] });
  for (const [client, roles] of Object.entries(change?.remove ?? {})) {
    clientRoles[client] = applyLists(clientRoles[client] ?? [], { add: [], remove: roles });
    if (clientRoles[client].length === 0) delete clientRoles[client];
  }
  return clientRoles;
}
