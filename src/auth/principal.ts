import type { JWTPayload } from 'jose';
import type { ApiKeyIdentity } from './ports/api-key-verifier.port.js';
import { keysmithScopes } from '../common/auth/caller-authority.js';
import { BoundedMemo } from '../common/cache/bounded-memo.js';
import type { ManagedCaller } from './ports/managed-caller-directory.port.js';
import type { Principal } from '../common/context/operation-context.js';
import type { AuthConfig } from '../config/app-config.js';
import { invalidCredentials } from './auth.errors.js';
import { DomainError } from '../common/errors/domain-error.js';

/** Parsed `scope` claims, by claim: a caller sends the same token, so the same claim, many times. */
const parsedClaims = new BoundedMemo<string, readonly string[]>(1_000, (claim) => [...new Set(claim.split(' ').filter(Boolean))]);

/** The scopes of an OAuth `scope` claim (space-separated), without duplicates; a new array each call. */
export function scopesOf(claim: unknown): string[] {
  return typeof claim === 'string' ? [...parsedClaims.get(claim)] : [];
}

export function missingScopes(principal: Pick<Principal, 'scopes'>, required: readonly string[]): string[] {
  return required.filter((scope) => !principal.scopes.includes(scope));
}

/**
 * The owner a caller is confined to: the configured claim or the key's account owner, unless the
 * caller holds the admin scope. No owner (null) means unrestricted.
 */
function ownerFor(owner: string | null, scopes: string[], auth: AuthConfig): string | null {
  return scopes.includes(auth.adminScope) ? null : owner;
}

/** The client a Keycloak access token was issued to (`azp`, or RFC 9068 `client_id`). */
export function clientOf(payload: JWTPayload): string {
  const client = [payload.azp, payload.client_id].find((value): value is string => typeof value === 'string' && value !== '');
  if (!client) throw invalidCredentials('The token names no client (azp), so Keysmith cannot tell who is calling.');
  return client;
}

function ownerClaimOf(payload: JWTPayload, auth: AuthConfig): string | null {
  const claim = payload[auth.ownerClaim];
  if (claim === undefined || claim === null) return null;
  // Fail closed: a confining claim we cannot read must not turn into "unrestricted".
  if (typeof claim !== 'string' || claim.trim() === '') throw invalidCredentials('The token carries an owner claim that is not a string.');
  return claim;
}

/**
 * The principal of a verified Keycloak access token, confined by who its client is, not by a claim
 * a scope could forge. A token of a Keysmith-managed account (`managed`) is confined to that
 * account's owner, and its Keysmith scopes are cut to the account's scopes; its owner claim may
 * only repeat that owner. A token of another client is accepted only when the client is on the
 * operator allow-list (KEYSMITH_TRUSTED_CALLERS); then the owner claim confines it. The admin
 * scope lifts the boundary.
 */
export function principalFromJwt(payload: JWTPayload, realm: string, auth: AuthConfig, managed: ManagedCaller | null): Principal {
  const subject = clientOf(payload);
  const claim = ownerClaimOf(payload, auth);
  const tokenScopes = scopesOf(payload.scope);
  if (!managed) {
    if (!auth.trustedCallers.includes(subject)) {
      throw withClient(invalidCredentials(`The token's client ${subject} is neither a service account Keysmith manages nor a trusted caller (KEYSMITH_TRUSTED_CALLERS).`), subject);
    }
    return { method: 'jwt', subject, scopes: tokenScopes, realm, owner: ownerFor(claim, tokenScopes, auth) };
  }
  if (!managed.enabled) throw withClient(invalidCredentials(`The service account ${subject} is disabled.`), subject);
  if (claim !== null && claim !== managed.owner) {
    throw withClient(invalidCredentials(`The token's owner claim does not match the owner of its client ${subject}; a claim may confine a caller, never move it.`), subject);
  }
  const own = keysmithScopes(auth.adminScope);
  const scopes = tokenScopes.filter((scope) => !own.has(scope) || managed.scopes.includes(scope));
  return { method: 'jwt', subject, scopes, realm, owner: ownerFor(managed.owner, scopes, auth) };
}

/** Names the refused client for the audit trail (the token itself is verified, so this is no guess). */
function withClient(error: DomainError, client: string): DomainError {
  return new DomainError(error.code, error.detail, { ...error.extensions, client }, error.headers);
}

/** The principal of a verified API key. */
export function principalFromApiKey(identity: ApiKeyIdentity, auth: AuthConfig): Principal {
  const scopes = [...new Set(identity.scopes)];
  return { method: 'api-key', subject: identity.keyId, scopes, realm: identity.realm, owner: ownerFor(identity.owner || null, scopes, auth) };
}
