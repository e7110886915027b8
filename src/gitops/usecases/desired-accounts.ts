import type { ServiceAccountSpec } from '../../service-accounts/index.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import { DomainError, type FieldError } from '../../common/errors/domain-error.js';
import { SET_NAME_PATTERN, SET_NAME_RULE, type SetRequest } from '../../service-accounts/index.js';
import type { Definition } from '../definitions/definition.schema.js';

/** A definition to plan or apply, with where it was written when it came from files. */
export interface DesiredAccount {
  definition: Definition;
  definedAt?: string;
}

export interface BundleOptions {
  /** Delete GitOps-managed accounts of `set` absent from the definitions; needs `set`. */
  prune: boolean;
  /** The GitOps set the bundle owns (`--set`); accounts it creates or adopts join it. */
  set?: string | null;
  /** Other sets whose accounts the bundle may take over when it names them (`--adopt-from-set`). */
  adoptFromSets?: string[];
  /** Take the unassigned GitOps accounts the bundle names into `set` (`--adopt-unassigned`). */
  adoptUnassigned?: boolean;
  /** Realms to prune besides those the definitions name. */
  realms?: string[];
  /** A caller confined to one owner sees and changes only that owner's accounts. */
  owner?: string | null;
  /**
   * Read every existing account's Keycloak state in detail (`--refresh`, plan and apply) instead of
   * judging unchanged accounts from the client list's summary; finds role mappings changed in
   * Keycloak by hand (apply then puts them back).
   */
  refresh?: boolean;
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

/** The set ownership an apply asks for, as the service-accounts feature enforces it. */
export function setRequestOf(options: BundleOptions): SetRequest {
  return { name: options.set ?? null, adoptFrom: options.adoptFromSets ?? [], adoptUnassigned: options.adoptUnassigned ?? false };
}

/**
 * The set options' own rules, shared by the HTTP body, the CLI and the use cases: names like a
 * clientId, and `prune` or adoption only with a named set, so no apply can prune across sets.
 */
export function setOptionErrors(options: Pick<BundleOptions, 'prune' | 'set' | 'adoptFromSets' | 'adoptUnassigned'>): FieldError[] {
  const errors: FieldError[] = [];
  const set = options.set ?? null;
  if (set !== null && !SET_NAME_PATTERN.test(set)) errors.push({ field: 'set', message: SET_NAME_RULE });
  (options.adoptFromSets ?? []).forEach((name, index) => {
    if (!SET_NAME_PATTERN.test(name)) errors.push({ field: `adoptFromSets[${index}]`, message: SET_NAME_RULE });
  });
  if (set === null) {
    if (options.prune) errors.push({ field: 'set', message: 'is required with prune: name the set whose accounts may be deleted' });
    if ((options.adoptFromSets ?? []).length > 0 || options.adoptUnassigned) errors.push({ field: 'set', message: 'is required to adopt accounts: name the set they join' });
  }
  return errors;
}

export function assertSetOptions(options: BundleOptions): void {
  const errors = setOptionErrors(options);
  if (errors.length > 0) throw DomainError.validation(errors, 'The GitOps set options are not valid.');
}
