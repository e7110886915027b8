import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

/** The realm named in every challenge (RFC 6750 section 3). */

function challenge(params: Record<string, string> = {}): string {
  // Values are fixed strings of this module: no quotes or backslashes to escape.
  return ['Bearer realm="keysmith"', ...Object.entries(params).map(([name, value]) => `${name}="${value}"`)].join(', ');
}

/** 401 without any credential: a plain challenge, no error attribute (RFC 6750 section 3.1). */
export function authenticationRequired(): DomainError {
  return new DomainError(
    ErrorCode.AuthenticationRequired,
    'This route needs `Authorization: Bearer <JWT>` or `X-API-Key: <key>`.',
    {},
    { 'www-authenticate': challenge() },
  );
}

/** 401 for a credential that is bad, expired or revoked. */
export function invalidCredentials(description: string): DomainError {
  return new DomainError(ErrorCode.InvalidCredentials, description, {}, {
    'www-authenticate': challenge({ error: 'invalid_token', error_description: description }),
  });
}

/** 400 for a credential header that cannot be read. */
export function malformedCredentials(description: string): DomainError {
  return new DomainError(ErrorCode.MalformedCredentials, description, {}, {
    'www-authenticate': challenge({ error: 'invalid_request', error_description: description }),
  });
}

export function ambiguousCredentials(): DomainError {
  const description = 'Send either Authorization: Bearer or X-API-Key, not both.';
  return new DomainError(ErrorCode.AmbiguousCredentials, description, {}, {
    'www-authenticate': challenge({ error: 'invalid_request', error_description: description }),
  });
}

/** 403 naming what the route needs and what the caller has. */
export function insufficientScope(required: string[], provided: string[], detail?: string): DomainError {
  const missing = required.filter((scope) => !provided.includes(scope));
  return new DomainError(
    ErrorCode.InsufficientScope,
    detail ?? `This route needs the scope${missing.length === 1 ? '' : 's'} ${missing.join(', ')}.`,
    { required, provided },
    { 'www-authenticate': challenge({ error: 'insufficient_scope', ...(required.length ? { scope: required.join(' ') } : {}) }) },
  );
}

export function rateLimited(retryAfterSeconds: number): DomainError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new DomainError(ErrorCode.RateLimited, `Too many requests with this API key; retry in ${seconds} s.`, { retryAfterSeconds: seconds }, {
    'retry-after': String(seconds),
  });
}
