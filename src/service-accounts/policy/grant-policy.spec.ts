import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrantPolicy } from './grant-policy.js';

describe('GrantPolicy', () => {
  const defaults = GrantPolicy.load(undefined, []);

  it('forbids by default realm-management, broker and account roles and the realm role admin', () => {
    expect(
      defaults.forbidden({
        realmRoles: ['admin', 'orders-reader'],
        clientRoles: { 'realm-management': ['manage-users'], broker: ['read-token'], account: ['manage-account'], 'orders-api': ['read'] },
        scopes: ['read:data'],
      }),
    ).toEqual(['realm:admin', 'client:realm-management:manage-users', 'client:broker:read-token', 'client:account:manage-account']);
  });

  it('adds configured deny patterns, with wildcards', () => {
    const policy = GrantPolicy.load(undefined, ['scope:write:*', 'realm:*-admin']);
    expect(policy.forbidden({ realmRoles: ['billing-admin', 'reader'], clientRoles: {}, scopes: ['write:data', 'read:data'] })).toEqual([
      'realm:billing-admin',
      'scope:write:data',
    ]);
  });

  it('reads a policy file that widens and narrows the defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'deny: ["client:realm-management:*"]\nalsoDeny: ["scope:offline_access"]\nallow: ["client:realm-management:view-users"]\n');
    const policy = GrantPolicy.load(file, []);
    expect(
      policy.forbidden({
        realmRoles: ['admin'],
        clientRoles: { 'realm-management': ['view-users', 'manage-users'] },
        scopes: ['offline_access'],
      }),
    ).toEqual(['client:realm-management:manage-users', 'scope:offline_access']);
  });

  it('refuses an invalid policy file naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'deny: "not-a-list"\n');
    expect(() => GrantPolicy.load(file, [])).toThrow(/deny/);
  });
});
