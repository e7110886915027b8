import type { ManagedClientSpec, ManagedClientSummary } from '../../keycloak/index.js';
import { specHash, specOf } from '../account-spec.js';
import type { ServiceAccountSpec } from '../dto/service-account.schemas.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';

/**
 * How a plan reads Keycloak. `summary`: one paged client list per realm, and a detail read (client,
 * service-account user, scopes, role mappings) only for accounts whose summary differs from the
 * definition. `full-refresh`: a detail read of every account, which also finds changes made in
 * Keycloak behind Keysmith's back that the list cannot show (role mappings).
 */
export type PlanReadMode = 'summary' | 'full-refresh';

/** The client list of a realm, by clientId, for a plan in `summary` mode. */
export type ClientSummaries = Map<string, ManagedClientSummary>;

const sameList = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((value, i) => value === [...b].sort()[i]);

/**
 * Whether the client list shows an account unchanged against `spec`, so a plan needs no detail
 * read: its row is settled and already holds `spec`, the client is the row's, carries the hash of
 * exactly this spec and its grants (stamped by Keysmith's last change to it), and what the list
 * shows agrees (enabled, description, flags, ownership attributes, token lifespan, scope names).
 * Role mappings are not in the list: one changed in Keycloak by hand, without touching the client,
 * is found only by a full refresh (the drift job's read).
 */
export function summaryShowsUnchanged(row: ServiceAccountEntity, spec: ServiceAccountSpec, summary: ManagedClientSummary | undefined, client: ManagedClientSpec): boolean {
  if (!summary || row.state !== 'ready' || !summary.managed || summary.id !== row.keycloakId) return false;
  if (specHash(specOf(row)) !== specHash(spec) || summary.specHash !== client.specHash) return false;
  return (
    summary.enabled === client.enabled &&
    summary.description === client.description &&
    !summary.flagsDrifted &&
    !summary.attributesDriftedFrom(client) &&
    summary.accessTokenLifespanSeconds === client.accessTokenLifespanSeconds &&
    sameList(summary.defaultScopes, client.defaultScopes) &&
    sameList(summary.optionalScopes, client.optionalScopes)
  );
}
