import { TokenExchangeError } from '../token-exchange.errors.js';
import { API_KEY_TOKEN_TYPE, parseTokenRequest, TOKEN_EXCHANGE_GRANT } from './token-request.js';

const FORM = 'application/x-www-form-urlencoded';
const good = { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: 'sk_live_x', subject_token_type: API_KEY_TOKEN_TYPE };

function errorOf(contentType: string | undefined, body: unknown): string {
  try {
    parseTokenRequest(contentType, body);
  } catch (error) {
    if (error instanceof TokenExchangeError) return error.error;
    throw error;
  }
  return 'none';
}

describe('parseTokenRequest', () => {
  it('reads the key and the optional scope, ignoring unknown parameters such as client_id', () => {
    expect(parseTokenRequest(FORM, { ...good, client_id: 'anything' })).toEqual({ subjectToken: 'sk_live_x', scopes: undefined });
    expect(parseTokenRequest(`${FORM}; charset=utf-8`, { ...good, scope: 'read:data  write:data read:data' })).toEqual({ subjectToken: 'sk_live_x', scopes: ['read:data', 'write:data'] });
  });

  it('answers each mistake with the OAuth error a client expects', () => {
    expect(errorOf('application/json', good)).toBe('invalid_request');
    expect(errorOf(FORM, { ...good, grant_type: 'client_credentials' })).toBe('unsupported_grant_type');
    expect(errorOf(FORM, { ...good, grant_type: undefined })).toBe('invalid_request');
    expect(errorOf(FORM, { ...good, subject_token: '' })).toBe('invalid_request');
    expect(errorOf(FORM, { ...good, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' })).toBe('invalid_request');
    expect(errorOf(FORM, { ...good, subject_token: ['a', 'b'] })).toBe('invalid_request');
    expect(errorOf(FORM, { ...good, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' })).toBe('invalid_request');
    expect(errorOf(FORM, { ...good, actor_token: 'x' })).toBe('invalid_request');
    expect(errorOf(FORM, { ...good, audience: 'orders-api' })).toBe('invalid_target');
    expect(errorOf(FORM, { ...good, scope: 'read:"data' })).toBe('invalid_scope');
  });
});
