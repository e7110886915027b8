import type { JWTPayload } from 'jose';
import type { ApiKeyIdentity } from '../common/auth/api-key-verifier.js';
import type { Principal } from '../common/context/operation-context.js';
import type { AuthConfig } from '../config/app-config.js';
import { invalidCredentials } from './auth.errors.js';

/** The scopes of an OAuth `scope` claim (space-separated), without duplicates. */
export function scopesOf(claim: unknown): string[] {
  return typeof claim === 'string' ? [...new Set(claim.split(' ').filter(Boolean))] : [];
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

/** The principal of a verified Keycloak access token. */
export function principalFromJwt(payload: JWTPayload, realm: string, auth: AuthConfig): Principal {
  const subject = [payload.azp, payload.client_id, payload.sub].find((value): value is string => typeof value === 'string' && value !== '');
  if (!subject) throw invalidCredentials('The token names no client (azp) or subject.');
  const claim = payload[auth.ownerClaim];
  if (claim !== undefined && claim !== null && (typeof claim !== 'string' || claim.trim() === '')) {
    // Fail closed: a confining claim we cannot read must not turn into "unrestricted".
    throw invalidCredentials('The token carries an owner claim that is not a string.');
  }
  const scopes = scopesOf(payload.scope);
  return { method: 'jwt', subject, scopes, realm, owner: ownerFor(typeof claim === 'string' ? claim : null, scopes, auth) };
}

/** The principal of a verified API key. */
export function principalFromApiKey(identity: ApiKeyIdentity, auth: AuthConfig): Principal {
  const scopes = [...new Set(identity.scopes)];
  return { method: 'api-key', subject: identity.keyId, scopes, realm: identity.realm, owner: ownerFor(identity.owner || null, scopes, auth) };
}
