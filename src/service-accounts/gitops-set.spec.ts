import { setTransition, type SetRequest } from './gitops-set.js';

const at = (managedBy: 'api' | 'gitops', gitopsSet: string | null) => ({ managedBy, gitopsSet, realm: 'platform', clientId: 'worker' });
const request = (name: string | null, extra: Partial<SetRequest> = {}): SetRequest => ({ name, adoptFrom: [], adoptUnassigned: false, ...extra });

describe('GitOps set transitions', () => {
  it('keeps an account in its own set, and adopts an API-made one into the applying set', () => {
    expect(setTransition(at('gitops', 'apps'), request('apps'))).toEqual({ kind: 'same', set: 'apps' });
    expect(setTransition(at('api', null), request('apps'))).toEqual({ kind: 'move', from: null, to: 'apps' });
  });

  it('refuses an account of another set unless adopted from it, also for an apply without a set', () => {
    expect(setTransition(at('gitops', 'bootstrap'), request('apps'))).toMatchObject({ kind: 'conflict', current: 'bootstrap', detail: expect.stringContaining('--set apps --adopt-from-set bootstrap') });
    expect(setTransition(at('gitops', 'bootstrap'), request(null, { adoptFrom: ['bootstrap'] }))).toMatchObject({ kind: 'conflict', detail: expect.stringContaining('apply it with --set bootstrap.') });
    expect(setTransition(at('gitops', 'bootstrap'), request('apps', { adoptFrom: ['other'] }))).toMatchObject({ kind: 'conflict' });
    expect(setTransition(at('gitops', 'bootstrap'), request('apps', { adoptFrom: ['bootstrap'] }))).toEqual({ kind: 'move', from: 'bootstrap', to: 'apps' });
  });

  it('leaves an unassigned account unassigned unless explicitly adopted', () => {
    expect(setTransition(at('gitops', null), request('apps'))).toEqual({ kind: 'unassigned' });
    expect(setTransition(at('gitops', null), request(null))).toEqual({ kind: 'same', set: null });
    expect(setTransition(at('gitops', null), request('apps', { adoptUnassigned: true }))).toEqual({ kind: 'move', from: null, to: 'apps' });
  });
});
