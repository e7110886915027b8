import { planScopes, unexpectedScopes } from './exchange-scopes.js';

const BASE = ['basic', 'roles', 'service_account'];
const account = { defaultScopes: ['read:data'], optionalScopes: ['write:data', 'reports:read'], baseScopes: BASE };

describe('planScopes', () => {
  it('asks Keycloak for the optional scopes the key holds, by default all of them', () => {
    expect(planScopes({ ...account, requested: undefined, keyScopes: ['read:data', 'write:data'] })).toEqual({
      ok: true,
      wanted: ['read:data', 'write:data'],
      keycloakScope: 'write:data',
    });
  });

  it('narrows to requested optional scopes and ignores base scopes', () => {
    expect(planScopes({ ...account, requested: ['read:data', 'roles'], keyScopes: ['read:data', 'write:data'] })).toEqual({ ok: true, wanted: ['read:data'], keycloakScope: '' });
  });

  it('refuses a scope the key does not hold, naming it', () => {
    const plan = planScopes({ ...account, requested: ['read:data', 'reports:read'], keyScopes: ['read:data'] });
    expect(plan).toMatchObject({ ok: false, scopes: ['reports:read'] });
  });

  it('refuses leaving out a default scope, whether the key lacks it or did not ask for it', () => {
    const lacking = planScopes({ ...account, requested: undefined, keyScopes: ['write:data'] });
    expect(lacking).toMatchObject({ ok: false, scopes: ['read:data'] });
    expect(!lacking.ok && lacking.description).toBe(
      "Keycloak adds the account's default scope read:data to every token, but the key does not hold it. Make scopes that keys may leave out optional scopes of the account.",
    );
    const unasked = planScopes({ ...account, requested: ['write:data'], keyScopes: ['read:data', 'write:data'] });
    expect(unasked).toMatchObject({ ok: false, scopes: ['read:data'], description: expect.stringContaining('default scope read:data to every token, but it was not requested.') });
    const twoDefaults = { ...account, defaultScopes: ['read:data', 'reports:read'], optionalScopes: ['write:data'] };
    expect(planScopes({ ...twoDefaults, requested: ['write:data'], keyScopes: ['read:data', 'reports:read', 'write:data'] })).toMatchObject({
      description: expect.stringContaining('default scopes read:data reports:read to every token, but they were not requested.'),
    });
    expect(planScopes({ ...twoDefaults, requested: undefined, keyScopes: ['read:data', 'write:data'] })).toMatchObject({
      description: expect.stringContaining('default scope reports:read to every token, but the key does not hold it.'),
    });
    expect(planScopes({ ...twoDefaults, requested: undefined, keyScopes: ['write:data'] })).toMatchObject({
      description: expect.stringContaining('default scopes read:data reports:read to every token, but the key does not hold all of them.'),
    });
  });

  it('refuses a scope the account no longer has although the key still names it', () => {
    expect(planScopes({ ...account, requested: undefined, keyScopes: ['read:data', 'gone:scope'] })).toMatchObject({ ok: false, scopes: ['gone:scope'] });
  });

  it('exempts base scopes that are defaults of every account', () => {
    expect(planScopes({ ...account, defaultScopes: ['roles', 'read:data'], requested: ['read:data'], keyScopes: ['read:data'] })).toMatchObject({ ok: true });
  });
});

describe('unexpectedScopes', () => {
  it('names what Keycloak added beyond the wanted and base scopes', () => {
    expect(unexpectedScopes(['read:data', 'profile', 'basic', 'email'], ['read:data'], BASE)).toEqual(['email', 'profile']);
    expect(unexpectedScopes(['read:data'], ['read:data', 'write:data'], BASE)).toEqual([]);
  });
});
