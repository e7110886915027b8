import { keysmithScopes, keysmithScopesBeyondCaller } from './caller-authority.js';

describe('caller authority over Keysmith scopes', () => {
  it('counts the API scopes and the admin scope as Keysmith scopes', () => {
    const own = keysmithScopes('keysmith:admin');
    expect(own.has('audit:read')).toBe(true);
    expect(own.has('keysmith:admin')).toBe(true);
    expect(own.has('read:data')).toBe(false);
  });

  it('names the Keysmith scopes the caller lacks, and ignores the realm scopes', () => {
    const beyond = keysmithScopesBeyondCaller({ callerScopes: ['service-accounts:write', 'audit:read'] }, ['read:data', 'audit:read', 'keysmith:admin', 'jobs:run'], 'keysmith:admin');
    expect(beyond).toEqual(['keysmith:admin', 'jobs:run']);
  });

  it('lets operator paths (no caller scopes) hand on every scope', () => {
    expect(keysmithScopesBeyondCaller({ callerScopes: null }, ['keysmith:admin'], 'keysmith:admin')).toEqual([]);
  });

  it('lets a caller with no scopes hand on none of Keysmith scopes', () => {
    expect(keysmithScopesBeyondCaller({ callerScopes: [] }, ['gitops:apply'], 'keysmith:admin')).toEqual(['gitops:apply']);
  });
});
