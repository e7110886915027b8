import { createHash } from 'node:crypto';
import type { Grants, ManagedClientSpec, RealmCatalog } from '../keycloak/index.js';
import type { ServiceAccountSpec } from './dto/service-account.schemas.js';
import type { ServiceAccountEntity } from './entities/service-account.entity.js';
import { toServiceAccountView, type ServiceAccountView } from './service-account.view.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The grants part of a spec: what the guard rails and the catalog check judge. */
export type Grantable = Pick<ServiceAccountSpec, 'realmRoles' | 'clientRoles' | 'defaultScopes' | 'optionalScopes'>;

/** The desired spec an account's row holds. */
export function specOf(row: ServiceAccountEntity): ServiceAccountSpec {
  return {
    description: row.description,
    owner: row.owner,
    enabled: row.enabled,
    realmRoles: row.realmRoles,
    clientRoles: row.clientRoles,
    defaultScopes: row.defaultScopes,
    optionalScopes: row.optionalScopes,
    secretRotation: { everyDays: row.rotationEveryDays, graceHours: row.rotationGraceHours },
    apiKeyPolicy: { defaultTtlDays: row.keyDefaultTtlDays, maxTtlDays: row.keyMaxTtlDays, rateLimit: row.keyRateLimit, tokenExchange: row.keyTokenExchange },
  };
}

/** The row columns of a spec (lists sorted). */
export function columnsOf(spec: ServiceAccountSpec): Partial<ServiceAccountEntity> {
  return {
    description: spec.description,
    owner: spec.owner,
    enabled: spec.enabled,
    realmRoles: [...spec.realmRoles].sort(),
    clientRoles: spec.clientRoles,
    defaultScopes: [...spec.defaultScopes].sort(),
    optionalScopes: [...spec.optionalScopes].sort(),
    rotationEveryDays: spec.secretRotation.everyDays,
    rotationGraceHours: spec.secretRotation.graceHours,
    keyDefaultTtlDays: spec.apiKeyPolicy.defaultTtlDays,
    keyMaxTtlDays: spec.apiKeyPolicy.maxTtlDays,
    keyRateLimit: spec.apiKeyPolicy.rateLimit,
    keyTokenExchange: spec.apiKeyPolicy.tokenExchange,
  };
}

/** A stable hash of a spec: sorted lists, sorted keys. */
export function specHash(spec: ServiceAccountSpec): string {
  return createHash('sha256').update(JSON.stringify(canonical(spec))).digest('hex');
}

/**
 * The hash stamped on an account's client (`keysmith.spec-hash`) with every change Keysmith makes
 * to it: the whole spec and the grants Keycloak holds for it (the realm's base scopes included).
 * A client whose stamp matches was last written by Keysmith for exactly this spec; plans trust it
 * for what the client list cannot show (role mappings), see plan-reading.ts.
 */
export function clientHashOf(spec: ServiceAccountSpec, grants: Grants): string {
  return createHash('sha256').update(JSON.stringify(canonical({ spec, grants }))).digest('hex');
}

/**
 * The entity tag of an account as a caller reads it: a hash of its whole representation, so any
 * change a caller could see (spec, set, source, rotation times) gives a new one.
 */
export function etagOf(account: ServiceAccountView | ServiceAccountEntity): string {
  const view = 'createdAt' in account && typeof account.createdAt === 'string' ? (account as ServiceAccountView) : toServiceAccountView(account as ServiceAccountEntity);
  return `"${createHash('sha256').update(JSON.stringify(canonical(view))).digest('base64url').slice(0, 27)}"`;
}

/** Whether an `If-Match` header value matches `etag` (`*` or a list; weak tags compare by value). */
export function ifMatchAccepts(ifMatch: string, etag: string): boolean {
  const wanted = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  return wanted.includes('*') || wanted.includes(etag);
}

/** The grants Keycloak should hold for `spec`: the base scopes the realm has are always default. */
export function grantsOf(spec: ServiceAccountSpec, baseScopes: string[], catalog: Pick<RealmCatalog, 'clientScopes'>): Grants {
  const base = baseScopes.filter((name) => catalog.clientScopes.has(name) && !spec.optionalScopes.includes(name));
  return {
    realmRoles: spec.realmRoles,
    clientRoles: Object.fromEntries(Object.entries(spec.clientRoles).filter(([, roles]) => roles.length > 0)),
    defaultScopes: [...new Set([...base, ...spec.defaultScopes])],
    optionalScopes: spec.optionalScopes,
  };
}

/**
 * The client Keycloak should hold for an account row and its spec. `exchangeLifespanSeconds`
 * (KEYSMITH_TOKEN_EXCHANGE_LIFESPAN_SECONDS) becomes the client's access-token lifespan when the
 * account has token exchange.
 */
export function clientSpecOf(row: Pick<ServiceAccountEntity, 'id' | 'clientId'>, spec: ServiceAccountSpec, grants: Grants, exchangeLifespanSeconds: number): ManagedClientSpec {
  return {
    clientId: row.clientId,
    description: spec.description,
    enabled: spec.enabled,
    owner: spec.owner,
    specHash: clientHashOf(spec, grants),
    accountId: row.id,
    defaultScopes: grants.defaultScopes,
    optionalScopes: grants.optionalScopes,
    accessTokenLifespanSeconds: spec.apiKeyPolicy.tokenExchange ? exchangeLifespanSeconds : null,
  };
}

function canonical(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return [...value].map(canonical).sort();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}
