import type { IncomingHttpHeaders } from 'node:http';
import { ambiguousCredentials, malformedCredentials } from './auth.errors.js';

export const API_KEY_HEADER = 'x-api-key';

export type Credentials = { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'api-key'; key: string };

// RFC 6750 section 2.1: b64token. JWTs use the base64url subset of it.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const API_KEY = /^[\x21-\x7E]+$/;
const MAX_TOKEN_LENGTH = 16_384;
const MAX_KEY_LENGTH = 256;

/**
 * Reads the one credential of a request: `Authorization: Bearer <token>` or `X-API-Key: <key>`.
 * Both at once is ambiguous; a header that is there but cannot be read is malformed. Neither
 * header means no credential. Says nothing yet about whether the credential is good.
 */
export function readCredentials(headers: IncomingHttpHeaders): Credentials {
  const authorization = headers.authorization;
  const apiKey = headers[API_KEY_HEADER];
  if (authorization !== undefined && apiKey !== undefined) throw ambiguousCredentials();
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    if (!match) {
      throw malformedCredentials(
        /^bearer\b/i.test(authorization.trim())
          ? 'The bearer token is empty or not a valid token.'
          : 'The Authorization header must use the Bearer scheme: `Authorization: Bearer <JWT>`.',
      );
    }
    if (match[1].length > MAX_TOKEN_LENGTH) throw malformedCredentials('The bearer token is too long.');
    return { kind: 'bearer', token: match[1] };
  }
  if (apiKey !== undefined) {
    // Node joins repeated headers with ", ": a repeated X-API-Key is refused by the character check.
    const key = (Array.isArray(apiKey) ? apiKey.join(', ') : apiKey).trim();
    if (key === '') throw malformedCredentials('The X-API-Key header is empty.');
    if (!API_KEY.test(key) || key.length > MAX_KEY_LENGTH) throw malformedCredentials('The X-API-Key header holds one key without spaces.');
    return { kind: 'api-key', key };
  }
  return { kind: 'none' };
}
