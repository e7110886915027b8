import type { AuthConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { missingScopes, principalFromApiKey, principalFromJwt, scopesOf } from './principal.js';

const auth: AuthConfig = { ownerClaim: 'keysmith_owner', adminScope: 'keysmith:admin', jwksRefreshCooldownSeconds: 30, jwksCacheMaxAgeSeconds: 600 };

describe('principals', () => {
  it('reads scopes from the space-separated scope claim', () => {
    expect(scopesOf('audit:read  jobs:read audit:read')).toEqual(['audit:read', 'jobs:read']);
    expect(scopesOf(undefined)).toEqual([]);
    expect(scopesOf(['audit:read'])).toEqual([]);
  });

  it('names the missing scopes', () => {
    expect(missingScopes({ scopes: ['a', 'b'] }, ['a', 'c', 'd'])).toEqual(['c', 'd']);
  });

  it('takes the subject from azp, then client_id, then sub', () => {
    expect(principalFromJwt({ azp: 'ci', sub: 'uuid' }, 'platform', auth).subject).toBe('ci');
    expect(principalFromJwt({ client_id: 'cli', sub: 'uuid' }, 'platform', auth).subject).toBe('cli');
    expect(principalFromJwt({ sub: 'uuid' }, 'platform', auth).subject).toBe('uuid');
    expect(() => principalFromJwt({}, 'platform', auth)).toThrow(DomainError);
  });

  it('confines a token to the owner in the configured claim unless it holds the admin scope', () => {
    expect(principalFromJwt({ azp: 'a', keysmith_owner: 'team-a', scope: 'audit:read' }, 'platform', auth)).toEqual({
      method: 'jwt', subject: 'a', scopes: ['audit:read'], realm: 'platform', owner: 'team-a',
    });
    expect(principalFromJwt({ azp: 'a', keysmith_owner: 'team-a', scope: 'keysmith:admin' }, 'platform', auth).owner).toBeNull();
    expect(principalFromJwt({ azp: 'a', team: 'x' }, 'platform', { ...auth, ownerClaim: 'team' }).owner).toBe('x');
    expect(principalFromJwt({ azp: 'a' }, 'platform', auth).owner).toBeNull();
  });

  it('refuses an owner claim it cannot read rather than treating the caller as unrestricted', () => {
    for (const claim of [['team-a'], 42, '', { team: 'a' }]) {
      expect(() => principalFromJwt({ azp: 'a', keysmith_owner: claim }, 'platform', auth)).toThrow(/owner claim/);
    }
  });

  it('confines an API key to the owner of its service account unless it holds the admin scope', () => {
    const identity = { keyId: 'key_1', realm: 'platform', clientId: 'ci', owner: 'team-b', scopes: ['api-keys:read'], expiresAt: '2030-01-01T00:00:00Z' };
    expect(principalFromApiKey(identity, auth)).toEqual({ method: 'api-key', subject: 'key_1', scopes: ['api-keys:read'], realm: 'platform', owner: 'team-b' });
    expect(principalFromApiKey({ ...identity, scopes: ['keysmith:admin'] }, auth).owner).toBeNull();
  });
});
