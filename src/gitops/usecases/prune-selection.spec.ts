import type { ServiceAccountView } from '../../service-accounts/index.js';
import { parseArgs } from '../../common/cli/cli-command.js';
import { setOptions } from '../cli/gitops-cli.support.js';
import { applyRequestSchema, planRequestSchema } from '../dto/gitops.schemas.js';
import { setOptionErrors } from './desired-accounts.js';
import { selectPrune } from './prune-selection.js';

const account = (clientId: string, managedBy: 'api' | 'gitops', gitopsSet: string | null, owner = 'team-a', realm = 'platform') =>
  ({ realm, clientId, managedBy, gitopsSet, owner }) as ServiceAccountView;

describe('prune selection', () => {
  const existing = [
    account('apps-gone', 'gitops', 'apps'),
    account('apps-kept', 'gitops', 'apps'),
    account('apps-other-owner', 'gitops', 'apps', 'team-b'),
    account('apps-other-realm', 'gitops', 'apps', 'team-a', 'partners'),
    account('bootstrap-op', 'gitops', 'bootstrap'),
    account('legacy', 'gitops', null),
    account('made-by-api', 'api', null),
  ];
  const wanted = new Set(['platform/apps-kept']);

  it('selects only GitOps accounts of the same set that no definition names', () => {
    const { candidates, unassigned } = selectPrune(existing, wanted, { set: 'apps', owner: null });
    expect(candidates.map((a) => `${a.realm}/${a.clientId}`)).toEqual(['partners/apps-other-realm', 'platform/apps-gone', 'platform/apps-other-owner']);
    expect(unassigned.map((a) => a.clientId)).toEqual(['legacy']);
  });

  it('never selects another set, unassigned or API-made accounts, whatever the set', () => {
    expect(selectPrune(existing, wanted, { set: 'bootstrap', owner: null }).candidates.map((a) => a.clientId)).toEqual(['bootstrap-op']);
    expect(selectPrune(existing, wanted, { set: 'nobody-uses-this', owner: null }).candidates).toEqual([]);
  });

  it('selects nothing without a set', () => {
    const { candidates, unassigned } = selectPrune(existing, wanted, { set: null, owner: null });
    expect(candidates).toEqual([]);
    expect(unassigned.map((a) => a.clientId)).toEqual(['legacy']);
  });

  it('confines an owner-bound caller to its owner, for deletions and for the unassigned report', () => {
    const { candidates, unassigned } = selectPrune([...existing, account('legacy-b', 'gitops', null, 'team-b')], wanted, { set: 'apps', owner: 'team-b' });
    expect(candidates.map((a) => a.clientId)).toEqual(['apps-other-owner']);
    expect(unassigned.map((a) => a.clientId)).toEqual(['legacy-b']);
  });
});

describe('set options', () => {
  it('require a set for prune and adoption, and names like a clientId', () => {
    expect(setOptionErrors({ prune: true })).toEqual([{ field: 'set', message: expect.stringContaining('required with prune') }]);
    expect(setOptionErrors({ prune: false, adoptUnassigned: true })).toEqual([{ field: 'set', message: expect.stringContaining('required to adopt') }]);
    expect(setOptionErrors({ prune: true, set: 'Platform', adoptFromSets: ['ok-set', 'x'] }).map((e) => e.field)).toEqual(['set', 'adoptFromSets[1]']);
    expect(setOptionErrors({ prune: true, set: 'platform-services', adoptFromSets: ['bootstrap'], adoptUnassigned: true })).toEqual([]);
    expect(setOptionErrors({ prune: false })).toEqual([]);
  });

  it('are checked the same way in the HTTP body, naming the field', () => {
    const result = applyRequestSchema.safeParse({ definitions: [], prune: true });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['set', expect.stringContaining('required with prune')]]);
    const bad = planRequestSchema.safeParse({ definitions: [], set: 'a' });
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['set']);
    expect(planRequestSchema.parse({ definitions: [], prune: true, set: 'apps' })).toMatchObject({ set: 'apps', adoptFromSets: [], adoptUnassigned: false });
  });

  it('are checked the same way on the command line, naming the flag', () => {
    expect(() => setOptions(parseArgs(['dir', '--prune'], ['prune']))).toThrow('--set: is required with --prune');
    expect(() => setOptions(parseArgs(['dir', '--set'], []))).toThrow('--set needs a name');
    expect(() => setOptions(parseArgs(['dir', '--set', 'apps', '--adopt-from-set', 'B'], []))).toThrow('--adopt-from-set: must match');
    expect(setOptions(parseArgs(['dir', '--set', 'apps', '--prune', '--adopt-from-set', 'one,two', '--adopt-unassigned'], ['prune', 'adopt-unassigned']))).toEqual({
      prune: true,
      set: 'apps',
      adoptFromSets: ['one', 'two'],
      adoptUnassigned: true,
    });
  });
});
