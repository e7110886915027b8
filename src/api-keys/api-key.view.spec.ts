import { scopeExcess, scopesNow, statusOf } from './api-key.view.js';

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

describe("a key's status", () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const later = new Date('2030-01-02T00:00:00Z');
  it('is revoked once revoked, even when the revoking instance stamped a time ahead of this clock', () => {
    expect(statusOf({ revokedAt: new Date('2030-01-01T00:01:00Z'), expiresAt: later, rotatedToId: null }, now)).toBe('revoked');
    expect(statusOf({ revokedAt: null, expiresAt: now, rotatedToId: null }, now)).toBe('expired');
    expect(statusOf({ revokedAt: null, expiresAt: later, rotatedToId: 'key_2' }, now)).toBe('expiring');
    expect(statusOf({ revokedAt: null, expiresAt: later, rotatedToId: null }, now)).toBe('active');
  });
});
