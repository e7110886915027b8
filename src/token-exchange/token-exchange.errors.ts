import type { ApiKeyFailureCode } from '../auth/index.js';
import { statusOf } from '../common/errors/problem-details.filter.js';

/** RFC 6749 section 5.2 error codes (and RFC 8693's invalid_target) that the token endpoint answers. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_grant_type'
  | 'temporarily_unavailable'
  | 'server_error';

/** Why an exchange was refused, for forward auth to answer in its own terms. */
export type ExchangeRefusal =
  | ApiKeyFailureCode
  | 'EXCHANGE_NOT_ENABLED'
  | 'SCOPE_NOT_GRANTABLE'
  | 'KEYCLOAK_REFUSED'
  | 'KEYCLOAK_UNAVAILABLE'
  | 'TOKEN_LIFESPAN_EXCEEDED'
  | 'BAD_REQUEST';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_grant: 400,
  unauthorized_client: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_grant_type: 400,
  temporarily_unavailable: 503,
  server_error: 500,
};

/**
 * A refused token request, rendered by the token endpoint as `{ error, error_description }`
 * (RFC 6749 section 5.2). The description never holds a key, a secret or a token.
 */
export class TokenExchangeError extends Error {
  readonly status: number;

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly refusal: ExchangeRefusal,
    readonly extras: { retryAfterSeconds?: number; scopes?: string[]; status?: number } = {},
  ) {
    super(description);
    this.name = 'TokenExchangeError';
    this.status = extras.status ?? STATUS[error];
  }

  get headers(): Record<string, string> {
    return this.extras.retryAfterSeconds !== undefined ? { 'retry-after': String(this.extras.retryAfterSeconds) } : {};
  }

  toBody(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/**
 * A token request that could not be read before the endpoint's handler ran: a body that does not
 * parse, or a media type the endpoint does not take. RFC 6749's `invalid_request` (400), with the
 * framework's reason, which never quotes the body.
 */
export function unreadableTokenRequest(error: unknown): TokenExchangeError {
  const description =
    statusOf(error) === 415
      ? 'The token endpoint takes its parameters form-encoded (Content-Type: application/x-www-form-urlencoded).'
      : `The request could not be read: ${error instanceof Error ? error.message : 'bad request'}`;
  return new TokenExchangeError('invalid_request', description, 'BAD_REQUEST');
}
