import { TokenExchangeError } from '../token-exchange.errors.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_KEY_TOKEN_TYPE = 'urn:keysmith:params:oauth:token-type:api-key';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface TokenRequest {
  subjectToken: string;
  /** Undefined when no `scope` was sent: every scope the key holds. */
  scopes: string[] | undefined;
}

/** A scope token as RFC 6749 section 3.3 allows it. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Reads an RFC 8693 token-exchange request from a form body. Unknown parameters are ignored
 * (RFC 6749 section 3.2), so OAuth libraries that also send `client_id` work; a parameter sent
 * twice, a missing one or an unsupported value is refused with the matching OAuth error.
 */
export function parseTokenRequest(contentType: string | undefined, body: unknown): TokenRequest {
  if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '') || !body || typeof body !== 'object') {
    throw invalid('The request must be form-encoded (application/x-www-form-urlencoded).');
  }
  const form = body as Record<string, unknown>;
  const repeated: string[] = [];
  for (const name in form) if (Array.isArray(form[name])) repeated.push(name);
  if (repeated.length) throw invalid(`A parameter may be sent only once: ${repeated.sort().join(', ')}.`);
  const get = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);

  const grantType = get('grant_type');
  if (!grantType) throw invalid('grant_type is required.');
  if (grantType !== TOKEN_EXCHANGE_GRANT) {
    throw new TokenExchangeError('unsupported_grant_type', `Only ${TOKEN_EXCHANGE_GRANT} is supported.`, 'BAD_REQUEST');
  }
  const subjectToken = get('subject_token');
  if (!subjectToken) throw invalid('subject_token is required: the API key.');
  const subjectTokenType = get('subject_token_type');
  if (subjectTokenType !== API_KEY_TOKEN_TYPE) throw invalid(`subject_token_type must be ${API_KEY_TOKEN_TYPE}.`);
  const requested = get('requested_token_type');
  if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw invalid(`requested_token_type may only be ${ACCESS_TOKEN_TYPE}.`);
  if (get('actor_token') !== undefined || get('actor_token_type') !== undefined) throw invalid('actor_token is not supported: the API key alone is the credential.');
  if (get('audience') !== undefined || get('resource') !== undefined) {
    throw new TokenExchangeError('invalid_target', 'audience and resource are not supported: the token is for the key\'s service account as Keycloak issues it.', 'BAD_REQUEST');
  }
  const scope = get('scope');
  if (scope === undefined) return { subjectToken, scopes: undefined };
  const scopes = scope.split(' ').filter(Boolean);
  const bad = scopes.filter((value) => !SCOPE_TOKEN.test(value));
  if (bad.length || scope.length > 4_000) throw new TokenExchangeError('invalid_scope', 'scope must be scope tokens separated by single spaces.', 'BAD_REQUEST');
  return { subjectToken, scopes: [...new Set(scopes)] };
}

function invalid(description: string): TokenExchangeError {
  return new TokenExchangeError('invalid_request', description, 'BAD_REQUEST');
}
