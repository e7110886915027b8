import { describeGrantDiff, diffGrants, isEmptyDiff, setDiff, describeFieldChanges } from './grant-diff.js';

describe('grant diff', () => {
  it('computes set differences by name', () => {
    expect(setDiff(['a', 'b', 'c'], ['c', 'd'])).toEqual({ add: ['a', 'b'], remove: ['d'] });
  });

  it('diffs roles, client roles, scopes and token role scope, and lists changes by name', () => {
    const diff = diffGrants(
      { realmRoles: ['reader', 'writer'], clientRoles: { api: ['read'] }, defaultScopes: ['basic', 'read:data'], optionalScopes: [] },
      {
        realmRoles: ['reader', 'viewer'],
        clientRoles: { api: ['read', 'write'], other: ['x'] },
        defaultScopes: ['basic'],
        optionalScopes: ['write:data'],
      },
    );
    expect(isEmptyDiff(diff)).toBe(false);
    expect(describeGrantDiff(diff)).toEqual([
      { field: 'realmRoles', action: 'add', value: 'writer' },
      { field: 'realmRoles', action: 'remove', value: 'viewer' },
      { field: 'clientRoles.api', action: 'remove', value: 'write' },
      { field: 'clientRoles.other', action: 'remove', value: 'x' },
      { field: 'defaultScopes', action: 'add', value: 'read:data' },
      { field: 'optionalScopes', action: 'remove', value: 'write:data' },
    ]);
  });

  it('is empty when Keycloak matches', () => {
    const grants = { realmRoles: ['r'], clientRoles: { c: ['x'] }, defaultScopes: ['s'], optionalScopes: ['o'] };
    expect(isEmptyDiff(diffGrants(grants, { ...grants }))).toBe(true);
  });

  it('lists only fields whose values differ', () => {
    expect(describeFieldChanges({ enabled: [true, false], description: ['a', 'a'] })).toEqual([{ field: 'enabled', action: 'set', from: true, to: false }]);
  });
});
