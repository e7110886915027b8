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
    expect(planScopes({ ...account, requested: undefined, keyScopes: ['write:data'] })).toMatchObject({ ok: false, scopes: ['read:data'], description: expect.stringContaining('does not hold') });
    expect(planScopes({ ...account, requested: ['write:data'], keyScopes: ['read:data', 'write:data'] })).toMatchObject({
      ok: false,
      scopes: ['read:data'],
      description: expect.stringContaining('were not requested'),
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
