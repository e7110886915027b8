import { DomainError } from '../common/errors/domain-error.js';
import { assertB64Token, readCredentials } from './credentials.js';

function codeOf(headers: Record<string, string | string[]>): string {
  try {
    readCredentials(headers);
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  return 'OK';
}

describe('readCredentials', () => {
  it('reads a bearer token, with the scheme in any case', () => {
    expect(readCredentials({ authorization: 'Bearer a.b.c' })).toEqual({ kind: 'bearer', token: 'a.b.c' });
    expect(readCredentials({ authorization: 'BEARER  a.b.c ' })).toEqual({ kind: 'bearer', token: 'a.b.c' });
  });

  it("leaves a bearer token's characters to assertB64Token, which the JWT verifier runs on a token it has not verified", () => {
    expect(readCredentials({ authorization: 'Bearer a b' })).toEqual({ kind: 'bearer', token: 'a b' });
    expect(readCredentials({ authorization: 'Bearer a"b  ' })).toEqual({ kind: 'bearer', token: 'a"b' });
    for (const token of ['a.b.c', 'a-b_c~d+e/f', 'abc==']) expect(() => assertB64Token(token)).not.toThrow();
    for (const token of ['a b', 'a"b', 'a=b', 'abc\t', 'é']) {
      expect(() => assertB64Token(token)).toThrow(expect.objectContaining({ code: 'MALFORMED_CREDENTIALS', detail: 'The bearer token is empty or not a valid token.' }));
    }
  });

  it('reads an API key, trimmed', () => {
    expect(readCredentials({ 'x-api-key': ' sk_live_abc ' })).toEqual({ kind: 'api-key', key: 'sk_live_abc' });
  });

  it('reports no credential when neither header is there', () => {
    expect(readCredentials({ accept: 'application/json' })).toEqual({ kind: 'none' });
  });

  it('refuses both credentials at once', () => {
    expect(codeOf({ authorization: 'Bearer a.b.c', 'x-api-key': 'sk_live_abc' })).toBe('AMBIGUOUS_CREDENTIALS');
    expect(codeOf({ authorization: 'Basic x', 'x-api-key': '' })).toBe('AMBIGUOUS_CREDENTIALS');
  });

  it.each([
    ['Basic dXNlcjpwYXNz'],
    ['Bearer'],
    ['Bearer '],
    [''],
    ['Token a.b.c'],
    [`Bearer ${'a'.repeat(20_000)}`],
  ])('refuses the Authorization header %j as malformed', (authorization) => {
    expect(codeOf({ authorization })).toBe('MALFORMED_CREDENTIALS');
  });

  it.each([[''], ['   '], ['sk_live_a b'], ['sk_live_é'], [['sk_live_a', 'sk_live_b']], ['k'.repeat(300)]])(
    'refuses the X-API-Key header %j as malformed',
    (key) => {
      expect(codeOf({ 'x-api-key': key })).toBe('MALFORMED_CREDENTIALS');
    },
  );
});
