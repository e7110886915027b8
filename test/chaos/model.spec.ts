import { Prng } from './cluster.js';
import { addCandidate, applyChange, certainScopes, patchBody, sameGrants, type AccountModel, type Grants } from './model.js';

const none: Grants = { realmRoles: [], clientRoles: {}, defaultScopes: [], optionalScopes: [] };
const account = (candidates: Grants[]): AccountModel => ({ realm: 'platform', clientId: 'chaos-x-a1', origin: 'api', exists: 'yes', candidates, keys: [] });

describe('chaos model', () => {
  it('applies a PATCH change to a known state and writes the matching PATCH body', () => {
    const added = applyChange(none, { field: 'clientRoles', op: 'add', name: 'read', client: 'orders-api' });
    expect(added).toEqual({ ...none, clientRoles: { 'orders-api': ['read'] } });
    expect(applyChange(added, { field: 'clientRoles', op: 'remove', name: 'read', client: 'orders-api' })).toEqual(none);
    expect(patchBody({ field: 'realmRoles', op: 'remove', name: 'orders-reader' })).toEqual({ realmRoles: { remove: ['orders-reader'] } });
    expect(patchBody({ field: 'clientRoles', op: 'add', name: 'write', client: 'orders-api' })).toEqual({ clientRoles: { add: { 'orders-api': ['write'] } } });
  });

  it('compares grants whatever their order, and keeps each possible state once', () => {
    const a: Grants = { ...none, realmRoles: ['b', 'a'] };
    expect(sameGrants(a, { ...none, realmRoles: ['a', 'b'] })).toBe(true);
    expect(sameGrants(a, none)).toBe(false);
    const model = account([none]);
    addCandidate(model, a);
    addCandidate(model, { ...none, realmRoles: ['a', 'b'] });
    expect(model.candidates).toHaveLength(2);
  });

  it('issues keys only with scopes that every possible state holds', () => {
    const model = account([
      { ...none, defaultScopes: ['read:data', 'write:data'] },
      { ...none, defaultScopes: ['read:data'], optionalScopes: ['reports:read'] },
    ]);
    expect(certainScopes(model)).toEqual(['read:data']);
  });

  it('the PRNG makes the same choices from the same seed', () => {
    const draw = (seed: number) => {
      const prng = new Prng(seed);
      return Array.from({ length: 20 }, () => prng.int(1000));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });
});
