import type { ServiceAccountEntity } from './entities/service-account.entity.js';
import type { Change } from './services/grant-diff.js';

type Primitive = string | number | boolean | null;

/** A change as stored in an observation (Keycloak-side values are plain). */
export interface ObservedChange {
  field: string;
  action: 'add' | 'remove' | 'set';
  value?: string;
  from?: Primitive;
  to?: Primitive;
  origin?: 'keycloak';
}

/** Changes as an observation stores them: values that are not plain become their JSON text. */
export function observedChanges(changes: Change[]): ObservedChange[] {
  const plain = (v: unknown): Primitive | undefined => (v === undefined ? undefined : v === null || ['string', 'number', 'boolean'].includes(typeof v) ? (v as Primitive) : JSON.stringify(v));
  return changes.map((change) => {
    const from = plain(change.from);
    const to = plain(change.to);
    return {
      field: change.field,
      action: change.action,
      ...(change.value !== undefined ? { value: change.value } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(change.origin ? { origin: change.origin } : {}),
    };
  });
}

/**
 * What Keysmith last saw of an account's client in Keycloak, where it differs from the account's
 * last applied spec (changes made in Keycloak directly). Stored on the row; cleared when a change
 * through Keysmith makes Keycloak match the spec again.
 */
export interface KeycloakObservation {
  /** When Keycloak was read (Keysmith's clock, ISO 8601). */
  checkedAt: string;
  /** The client is disabled in Keycloak although the spec enables it. */
  disabled: boolean;
  /** Default or optional scopes of the spec the client no longer has in Keycloak. */
  missingScopes: string[];
  /** Everything that differs, as plan would show it (from the last full read; the sweep sees enabled and scopes only). */
  drift: ObservedChange[];
  /** Digest of Keycloak's secret last reported as not the stored one: a regeneration is reported once. */
  reportedSecretDigest?: string;
}

/** What the account's keys get now: the spec, less what Keycloak took away (never more than the spec). */
export interface EffectiveState {
  enabled: boolean;
  scopes: string[];
}

export function effectiveStateOf(row: Pick<ServiceAccountEntity, 'enabled' | 'state' | 'defaultScopes' | 'optionalScopes' | 'keycloakObserved'>): EffectiveState {
  const observed = row.keycloakObserved;
  const missing = new Set(observed?.missingScopes ?? []);
  return {
    enabled: row.enabled && row.state !== 'orphaned' && !observed?.disabled,
    scopes: [...new Set([...row.defaultScopes, ...row.optionalScopes])].filter((scope) => !missing.has(scope)).sort(),
  };
}

/** Whether two observations say the same to a caller (the check time aside). */
export function sameObservation(a: KeycloakObservation | null, b: KeycloakObservation | null): boolean {
  const key = (o: KeycloakObservation | null) => (o ? JSON.stringify([o.disabled, [...o.missingScopes].sort(), o.drift, o.reportedSecretDigest ?? null]) : 'null');
  return key(a) === key(b);
}

/** Whether the client is enabled in Keycloak, as last seen: the spec's value unless Keycloak was seen to differ. */
export function keycloakEnabledOf(row: Pick<ServiceAccountEntity, 'enabled' | 'state' | 'keycloakObserved'>): boolean {
  if (row.state === 'orphaned') return false;
  const seen = row.keycloakObserved?.drift.find((change) => change.field === 'enabled')?.from;
  return typeof seen === 'boolean' ? seen : row.enabled && !row.keycloakObserved?.disabled;
}
