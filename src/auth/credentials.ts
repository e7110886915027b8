import type { IncomingHttpHeaders } from 'node:http';
import { ambiguousCredentials, malformedCredentials } from './auth.errors.js';

export const API_KEY_HEADER = 'x-api-key';

export type Credentials = { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'api-key'; key: string };

/** The scheme and the spaces after it; the token is what follows, less trailing spaces. */
const BEARER_SCHEME = /^Bearer +/i;
// RFC 6750 section 2.1: b64token. JWTs use the base64url subset of it.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const API_KEY = /^[\x21-\x7E]+$/;
const MAX_TOKEN_LENGTH = 16_384;
const MAX_KEY_LENGTH = 256;
const SPACE = 0x20;
const BAD_TOKEN = 'The bearer token is empty or not a valid token.';

/**
 * Reads the one credential of a request: `Authorization: Bearer <token>` or `X-API-Key: <key>`.
 * Both at once is ambiguous; a header that is there but cannot be read is malformed. Neither
 * header means no credential. Says nothing yet about whether the credential is good, and leaves
 * a bearer token's characters to `assertB64Token`, which the JWT verifier runs on a token it has
 * not verified before: scanning a token of a few kilobytes on every request was the largest cost
 * of a request authenticated by a token already verified (known by its hash).
 */
export function readCredentials(headers: IncomingHttpHeaders): Credentials {
  const authorization = headers.authorization;
  const apiKey = headers[API_KEY_HEADER];
  if (authorization !== undefined && apiKey !== undefined) throw ambiguousCredentials();
  if (authorization !== undefined) {
    const scheme = BEARER_SCHEME.exec(authorization);
    const token = scheme ? withoutTrailingSpaces(authorization.slice(scheme[0].length)) : '';
    if (token === '') {
      throw malformedCredentials(
        /^bearer\b/i.test(authorization.trim())
          ? BAD_TOKEN
          : 'The Authorization header must use the Bearer scheme: `Authorization: Bearer <JWT>`.',
      );
    }
    if (token.length > MAX_TOKEN_LENGTH) throw malformedCredentials('The bearer token is too long.');
    return { kind: 'bearer', token };
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

/** `value` without the spaces at its end (trimEnd would drop tabs and other whitespace too). */
function withoutTrailingSpaces(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === SPACE) end -= 1;
  return end === value.length ? value : value.slice(0, end);
}

/** Refuses, as malformed, a bearer token that is not an RFC 6750 b64token (see readCredentials). */
export function assertB64Token(token: string): void {
  if (!B64TOKEN.test(token)) throw malformedCredentials(BAD_TOKEN);
}
