import type { AuthConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { missingScopes, principalFromApiKey, principalFromJwt, scopesOf } from './principal.js';

const auth: AuthConfig = { ownerClaim: 'keysmith_owner', adminScope: 'keysmith:admin', jwksRefreshCooldownSeconds: 30, jwksCacheMaxAgeSeconds: 600, trustedCallers: ['a', 'ci', 'cli'] };

describe('principals', () => {
  it('reads scopes from the space-separated scope claim', () => {
    expect(scopesOf('audit:read  jobs:read audit:read')).toEqual(['audit:read', 'jobs:read']);
    expect(scopesOf(undefined)).toEqual([]);
    expect(scopesOf(['audit:read'])).toEqual([]);
  });

  it('answers a repeated claim as parsed the first time, in an array of its own each time', () => {
    const first = scopesOf('keys:read keys:write');
    first.push('keysmith:admin');
    expect(scopesOf('keys:read keys:write')).toEqual(['keys:read', 'keys:write']);
    // A token of an account keeps only the Keysmith scopes its account has, on every request.
    const managed = { owner: 'team-a', enabled: true, scopes: ['api-keys:read'] };
    for (let i = 0; i < 3; i += 1) {
      expect(principalFromJwt({ azp: 'svc', scope: 'api-keys:read api-keys:write keysmith:admin other' }, 'platform', auth, managed).scopes).toEqual(['api-keys:read', 'other']);
    }
  });

  it('names the missing scopes', () => {
    expect(missingScopes({ scopes: ['a', 'b'] }, ['a', 'c', 'd'])).toEqual(['c', 'd']);
  });

  it('takes the subject from azp, then client_id, and refuses a token that names no client', () => {
    expect(principalFromJwt({ azp: 'ci', sub: 'uuid' }, 'platform', auth, null).subject).toBe('ci');
    expect(principalFromJwt({ client_id: 'cli', sub: 'uuid' }, 'platform', auth, null).subject).toBe('cli');
    expect(() => principalFromJwt({ sub: 'uuid' }, 'platform', { ...auth, trustedCallers: ['uuid'] }, null)).toThrow(/names no client/);
    expect(() => principalFromJwt({}, 'platform', auth, null)).toThrow(DomainError);
  });

  it('refuses a token of a client that is neither managed nor trusted', () => {
    expect(() => principalFromJwt({ azp: 'stranger', scope: 'audit:read' }, 'platform', auth, null)).toThrow(/neither a service account Keysmith manages nor a trusted caller/);
  });

  it('confines a managed client to its account owner, and cuts its Keysmith scopes to the account scopes', () => {
    const managed = { owner: 'team-x', enabled: true, scopes: ['service-accounts:read', 'read:data'] };
    expect(principalFromJwt({ azp: 'worker', scope: 'profile service-accounts:read audit:read keysmith:admin' }, 'platform', auth, managed)).toEqual({
      method: 'jwt', subject: 'worker', scopes: ['profile', 'service-accounts:read'], realm: 'platform', owner: 'team-x',
    });
    // A managed client is confined even when it is also on the allow-list.
    expect(principalFromJwt({ azp: 'a', scope: 'audit:read' }, 'platform', auth, { ...managed, scopes: ['audit:read'] }).owner).toBe('team-x');
  });

  it('lets the owner claim of a managed client only repeat its owner', () => {
    const managed = { owner: 'team-x', enabled: true, scopes: [] };
    expect(principalFromJwt({ azp: 'worker', keysmith_owner: 'team-x' }, 'platform', auth, managed).owner).toBe('team-x');
    expect(() => principalFromJwt({ azp: 'worker', keysmith_owner: 'team-y' }, 'platform', auth, managed)).toThrow(/does not match the owner/);
  });

  it('lifts the boundary of a managed client only when its account holds the admin scope', () => {
    const token = { azp: 'ops', scope: 'keysmith:admin service-accounts:read' };
    expect(principalFromJwt(token, 'platform', auth, { owner: 'platform', enabled: true, scopes: ['keysmith:admin', 'service-accounts:read'] }).owner).toBeNull();
    expect(principalFromJwt(token, 'platform', auth, { owner: 'platform', enabled: true, scopes: ['service-accounts:read'] }).owner).toBe('platform');
  });

  it('refuses a token of a disabled managed client', () => {
    expect(() => principalFromJwt({ azp: 'worker' }, 'platform', auth, { owner: 'team-x', enabled: false, scopes: [] })).toThrow(/disabled/);
  });

  it('confines a trusted caller to the owner in the configured claim unless it holds the admin scope', () => {
    expect(principalFromJwt({ azp: 'a', keysmith_owner: 'team-a', scope: 'audit:read' }, 'platform', auth, null)).toEqual({
      method: 'jwt', subject: 'a', scopes: ['audit:read'], realm: 'platform', owner: 'team-a',
    });
    expect(principalFromJwt({ azp: 'a', keysmith_owner: 'team-a', scope: 'keysmith:admin' }, 'platform', auth, null).owner).toBeNull();
    expect(principalFromJwt({ azp: 'a', team: 'x' }, 'platform', { ...auth, ownerClaim: 'team' }, null).owner).toBe('x');
    expect(principalFromJwt({ azp: 'a' }, 'platform', auth, null).owner).toBeNull();
  });

  it('refuses an owner claim it cannot read rather than treating the caller as unrestricted', () => {
    for (const claim of [['team-a'], 42, '', { team: 'a' }]) {
      expect(() => principalFromJwt({ azp: 'a', keysmith_owner: claim }, 'platform', auth, null)).toThrow(/owner claim/);
    }
  });

  it('confines an API key to the owner of its service account unless it holds the admin scope', () => {
    const identity = { keyId: 'key_1', realm: 'platform', clientId: 'ci', owner: 'team-b', scopes: ['api-keys:read'], expiresAt: '2030-01-01T00:00:00Z' };
    expect(principalFromApiKey(identity, auth)).toEqual({ method: 'api-key', subject: 'key_1', scopes: ['api-keys:read'], realm: 'platform', owner: 'team-b' });
    expect(principalFromApiKey({ ...identity, scopes: ['keysmith:admin'] }, auth).owner).toBeNull();
  });
});
