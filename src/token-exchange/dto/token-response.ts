import type { ExchangeResult } from '../services/token-exchange.service.js';
import { ACCESS_TOKEN_TYPE } from './token-request.js';

/**
 * Each cached token's answer as JSON, split around its `expires_in`: a token handed out again and
 * again is serialised once, not on every request. Keyed by the cache entry, which is never changed
 * (a fresh token is a new entry), so the memo goes with the entry.
 */
const serialised = new WeakMap<ExchangeResult['entry'], { head: string; tail: string }>();

/**
 * The token endpoint's success answer: the same text as JSON.stringify of
 * `{ access_token, issued_token_type, token_type: 'Bearer', expires_in, scope }`.
 */
export function tokenResponseBody(result: ExchangeResult): string {
  let parts = serialised.get(result.entry);
  if (!parts) {
    parts = {
      head: `{"access_token":${JSON.stringify(result.accessToken)},"issued_token_type":${JSON.stringify(ACCESS_TOKEN_TYPE)},"token_type":"Bearer","expires_in":`,
      tail: `,"scope":${JSON.stringify(result.scopes.join(' '))}}`,
    };
    serialised.set(result.entry, parts);
  }
  return parts.head + result.expiresIn + parts.tail;
}
