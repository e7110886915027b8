import type { ExchangeResult } from '../services/token-exchange.service.js';
import type { CachedToken } from '../services/exchanged-token-cache.js';
import { ACCESS_TOKEN_TYPE } from './token-request.js';
import { tokenResponseBody } from './token-response.js';

const entry = (accessToken: string, scopes: string[]): CachedToken => ({ accessToken, scopes, keyId: 'key_1', realm: 'platform', clientId: 'orders', expiresAt: 0, refreshAt: 0 });
const result = (token: CachedToken, expiresIn: number): ExchangeResult => ({
  identity: { keyId: 'key_1', realm: 'platform', clientId: 'orders', owner: 'team', scopes: token.scopes, expiresAt: '2027-01-01T00:00:00.000Z' },
  accessToken: token.accessToken,
  expiresIn,
  scopes: token.scopes,
  cached: true,
  entry: token,
});
const stringified = (r: ExchangeResult) =>
  JSON.stringify({ access_token: r.accessToken, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: r.expiresIn, scope: r.scopes.join(' ') });

describe('tokenResponseBody', () => {
  it('is the text JSON.stringify gives for the answer, for each hand-out of a cached token', () => {
    const token = entry('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', ['read:data', 'write:data']);
    for (const expiresIn of [300, 299, 1]) {
      const body = tokenResponseBody(result(token, expiresIn));
      expect(body).toBe(stringified(result(token, expiresIn)));
      expect(JSON.parse(body)).toMatchObject({ expires_in: expiresIn, scope: 'read:data write:data' });
    }
  });

  it('escapes what JSON must escape, and keeps each token to its own entry', () => {
    const odd = entry('a"b\\c\u2028d', ['x"y']);
    const other = entry('second.token.value', []);
    expect(tokenResponseBody(result(odd, 10))).toBe(stringified(result(odd, 10)));
    expect(JSON.parse(tokenResponseBody(result(odd, 10))).access_token).toBe('a"b\\c\u2028d');
    expect(tokenResponseBody(result(other, 5))).toBe(stringified(result(other, 5)));
    expect(JSON.parse(tokenResponseBody(result(other, 5)))).toEqual({ access_token: 'second.token.value', issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: 5, scope: '' });
  });
});
