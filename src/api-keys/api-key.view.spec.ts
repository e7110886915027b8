import { scopeExcess, scopesNow } from './api-key.view.js';

describe("a key's scopes against its account's", () => {
  const many = Array.from({ length: 40 }, (_, i) => `scope-${i}`);

  it.each([
    ['a few account scopes (scanned)', ['read', 'write', 'admin']],
    ['many account scopes (a set)', [...many, 'read', 'write', 'admin']],
  ])('names the issued scopes the account no longer has, with %s', (_case, accountScopes) => {
    expect(scopeExcess(['read', 'gone', 'write', 'lost'], accountScopes)).toEqual(['gone', 'lost']);
    expect(scopeExcess(['read', 'write'], accountScopes)).toEqual([]);
    expect(scopesNow(['read', 'gone', 'write'], accountScopes, 'enforce')).toEqual(['read', 'write']);
    expect(scopesNow(['read', 'gone', 'write'], accountScopes, 'report')).toEqual(['read', 'gone', 'write']);
  });

  it('counts every issued scope as excess when the account is gone', () => {
    expect(scopeExcess(['read', 'write'], null)).toEqual(['read', 'write']);
    expect(scopesNow(['read', 'write'], null, 'enforce')).toEqual([]);
  });
});
