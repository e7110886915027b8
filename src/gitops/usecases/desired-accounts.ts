import type { ServiceAccountSpec } from '../../service-accounts/dto/service-account.schemas.js';
import type { ServiceAccountView } from '../../service-accounts/service-account.view.js';
import type { Definition } from '../definitions/definition.schema.js';

/** A definition to plan or apply, with where it was written when it came from files. */
export interface DesiredAccount {
  definition: Definition;
  definedAt?: string;
}

export interface BundleOptions {
  /** Delete GitOps-managed accounts absent from the definitions. */
  prune: boolean;
  /** Realms to prune besides those the definitions name. */
  realms?: string[];
  /** A caller confined to one owner sees and changes only that owner's accounts. */
  owner?: string | null;
  /** The caller's scopes of Keysmith's own API, which bound the Keysmith scopes it may grant; null or absent for operators. */
  callerScopes?: string[] | null;
}

export const accountKey = (realm: string, clientId: string) => `${realm}/${clientId}`;

/** The service-account spec a definition asks for: its spec, with the owner from its metadata. */
export function desiredSpec(definition: Definition): ServiceAccountSpec {
  return { ...definition.spec, owner: definition.metadata.owner };
}

/** The definition that describes an account as it is, for export. */
export function definitionOf(account: ServiceAccountView): Definition {
  return {
    apiVersion: 'keysmith/v1',
    kind: 'ServiceAccount',
    metadata: { name: account.clientId, realm: account.realm, owner: account.owner },
    spec: {
      description: account.description,
      enabled: account.enabled,
      realmRoles: [...account.realmRoles].sort(),
      clientRoles: Object.fromEntries(Object.entries(account.clientRoles).sort(([a], [b]) => a.localeCompare(b)).map(([c, roles]) => [c, [...roles].sort()])),
      defaultScopes: [...account.defaultScopes].sort(),
      optionalScopes: [...account.optionalScopes].sort(),
      secretRotation: { everyDays: account.secretRotation.everyDays, graceHours: account.secretRotation.graceHours },
      apiKeyPolicy: { ...account.apiKeyPolicy },
    },
  };
}

/** The realms a bundle touches: those its definitions name and those asked for explicitly. */
export function realmsOf(desired: DesiredAccount[], options: BundleOptions): string[] {
  return [...new Set([...desired.map((d) => d.definition.metadata.realm), ...(options.realms ?? [])])].sort();
}
