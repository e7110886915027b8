import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { argsFor, type CliCommand } from '../src/common/cli/cli-command.js';
import { systemContext } from '../src/common/context/operation-context.js';
import { applyCommand } from '../src/gitops/cli/apply.command.js';
import { exportCommand } from '../src/gitops/cli/export.command.js';
import { planCommand } from '../src/gitops/cli/plan.command.js';
import { setsAssignCommand } from '../src/gitops/cli/sets-assign.command.js';
import { keycloakAdmin } from './support/keycloak-admin.js';
import { ServiceAccountsService } from '../src/service-accounts/services/service-accounts.service.js';
import { adminToken, authHeaders, remember } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { pendingSchemaChanges } from './support/schema-check.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const REALM = 'platform';

describe('GitOps sets: scoped prune, explicit moves, assigning unassigned accounts (real Keycloak)', () => {
  let t: TestApp;
  let root: string;
  const run = randomBytes(3).toString('hex');
  const id = (name: string) => `gs${run}-${name}`;
  const dirs = { apps: '', tools: '', legacy: '' };

  function write(dir: string, names: string[]): void {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const name of names) {
      writeFileSync(join(dir, `${name}.yaml`), `apiVersion: keysmith/v1\nkind: ServiceAccount\nmetadata:\n  name: ${id(name)}\n  realm: ${REALM}\n  owner: team-sets\nspec:\n  realmRoles: [orders-reader]\n  defaultScopes: [read:data]\n`);
    }
  }

  async function cli(command: CliCommand, argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await command.run(argsFor(command, argv), { out: (l) => out.push(l), err: (l) => err.push(l) }, async () => t.app);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  const service = () => t.app.get(ServiceAccountsService);
  const setOf = async (name: string) => (await service().findLive(REALM, id(name)))?.gitopsSet;
  async function inKeycloak(name: string): Promise<boolean> {
    const found = await (await keycloakAdmin()).clients.find({ realm: REALM, clientId: id(name), search: false });
    return found.length === 1;
  }

  beforeAll(async () => {
    t = await createTestApp();
    root = mkdtempSync(join(tmpdir(), 'keysmith-sets-e2e-'));
    dirs.apps = join(root, 'apps');
    dirs.tools = join(root, 'tools');
    dirs.legacy = join(root, 'legacy');
  });

  afterAll(async () => {
    for (const account of await service().listAll(REALM)) await service().remove(systemContext('cli', 'test-cleanup'), REALM, account.clientId).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    await t.close();
  });

  it('adds the set column by migration, matching the entity', async () => {
    expect(await pendingSchemaChanges(t.app.get(DataSource))).toEqual([]);
  });

  it('remembers the set of each apply; an apply without a set leaves its accounts unassigned', async () => {
    write(dirs.legacy, ['legacy-one']);
    write(dirs.tools, ['tool-one']);
    write(dirs.apps, ['app-one', 'app-two']);
    expect((await cli(applyCommand, [dirs.legacy, '--auto-approve'])).code).toBe(0);
    expect((await cli(applyCommand, [dirs.tools, '--set', 'tools', '--auto-approve'])).code).toBe(0);
    const apps = await cli(applyCommand, [dirs.apps, '--set', 'apps', '--auto-approve']);
    expect(apps.out).toContain('Apply complete: 2 created, 0 changed, 0 deleted, 0 unchanged, 0 failed (set apps).');
    expect(apps.out).toContain(`  ${REALM}/${id('legacy-one')}: GitOps account with no set, not in the definitions; never pruned`);
    expect(await Promise.all(['legacy-one', 'tool-one', 'app-one', 'app-two'].map(setOf))).toEqual([null, 'tools', 'apps', 'apps']);
  });

  it('refuses --prune without a set, on the command line and over HTTP', async () => {
    // A usage error: `keysmith` prints it with the usage line and exits 1, before loading anything.
    await expect(cli(applyCommand, [dirs.apps, '--prune', '--auto-approve'])).rejects.toThrow('--set: is required with --prune');
    await expect(cli(planCommand, [dirs.apps, '--prune', '--server', t.baseUrl])).rejects.toThrow('--set: is required with --prune');
    const res = await t.inject({ method: 'POST', url: '/v1/gitops/apply', headers: authHeaders(remember(t.secrets, await adminToken())), payload: { definitions: [], prune: true } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors).toEqual([{ field: 'set', message: expect.stringContaining('required with prune') }]);
  });

  it('prunes only accounts of the same set: another set and unassigned accounts survive', async () => {
    write(dirs.apps, ['app-one']);
    const plan = await cli(planCommand, [dirs.apps, '--set', 'apps', '--prune', '--json']);
    const parsed = JSON.parse(plan.out);
    expect(parsed.accounts.filter((a: { action: string }) => a.action === 'delete').map((a: { clientId: string }) => a.clientId)).toEqual([id('app-two')]);
    expect(parsed.unassigned).toEqual([{ realm: REALM, clientId: id('legacy-one') }]);

    const pruned = await cli(applyCommand, [dirs.apps, '--set', 'apps', '--prune', '--auto-approve']);
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain(`- ${REALM}/${id('app-two')}: deleted`);
    expect(await inKeycloak('app-two')).toBe(false);
    expect(await service().findLive(REALM, id('app-two'))).toBeNull();
    for (const survivor of ['tool-one', 'legacy-one', 'app-one']) expect(await inKeycloak(survivor)).toBe(true);
    expect(await setOf('tool-one')).toBe('tools');
    expect(await setOf('legacy-one')).toBeNull();
  });

  it('refuses to take an account of another set unless --adopt-from-set names it, and shows the move', async () => {
    write(dirs.apps, ['app-one', 'tool-one']);
    const conflict = await cli(planCommand, [dirs.apps, '--set', 'apps']);
    expect(conflict.code).toBe(1);
    expect(conflict.out).toContain(`✗ SET_CONFLICT: Service account ${REALM}/${id('tool-one')} belongs to the GitOps set tools, not apps`);
    const refused = await cli(applyCommand, [dirs.apps, '--set', 'apps', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`✗ ${REALM}/${id('tool-one')}: update failed: SET_CONFLICT`);
    expect(await setOf('tool-one')).toBe('tools');

    const plan = await cli(planCommand, [dirs.apps, '--set', 'apps', '--adopt-from-set', 'tools', '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.out).toContain(`  ${REALM}/${id('tool-one')}: move`);
    expect(plan.out).toContain('    ~ set: tools → apps');
    const moved = await cli(applyCommand, [dirs.apps, '--set', 'apps', '--adopt-from-set', 'tools', '--auto-approve']);
    expect(moved.code).toBe(0);
    expect(moved.out).toContain(`~ ${REALM}/${id('tool-one')}: updated`);
    expect(await setOf('tool-one')).toBe('apps');
    const events = await t.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.set_changed&clientId=${id('tool-one')}`, headers: authHeaders(await adminToken()) });
    expect(events.json().items).toEqual([expect.objectContaining({ outcome: 'success', detail: expect.objectContaining({ from: 'tools', to: 'apps' }) })]);
  });

  it('assigns unassigned accounts only when told to, in-process by name and through a server for all of a realm', async () => {
    const refused = await cli(setsAssignCommand, ['--set', 'tools', '--realm', REALM, '--client', id('tool-one')]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`✗ ${REALM}/${id('tool-one')}: SET_CONFLICT`);
    expect(await setOf('tool-one')).toBe('apps');

    const assigned = await cli(setsAssignCommand, ['--set', 'apps', '--realm', REALM, '--client', id('legacy-one')]);
    expect(assigned).toMatchObject({ code: 0, out: expect.stringContaining(`~ ${REALM}/${id('legacy-one')}: set: none → apps`) });
    expect(await setOf('legacy-one')).toBe('apps');
    const plan = await cli(planCommand, [dirs.apps, '--set', 'apps', '--prune']);
    expect(plan.out).toContain(`- ${REALM}/${id('legacy-one')}: delete`);

    write(dirs.legacy, ['legacy-two']);
    expect((await cli(applyCommand, [dirs.legacy, '--auto-approve'])).code).toBe(0);
    process.env.KEYSMITH_TOKEN = remember(t.secrets, await adminToken());
    try {
      const all = await cli(setsAssignCommand, ['--set', 'tools', '--realm', REALM, '--all-unassigned', '--json', '--server', t.baseUrl]);
      expect(all.code).toBe(0);
      expect(JSON.parse(all.out)).toEqual({ set: 'tools', realm: REALM, assigned: [id('legacy-two')], unchanged: [], failed: [], ok: true });
    } finally {
      delete process.env.KEYSMITH_TOKEN;
    }
    expect(await setOf('legacy-two')).toBe('tools');
    const events = await t.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.set_assigned&clientId=${id('legacy-two')}`, headers: authHeaders(await adminToken()) });
    expect(events.json().items).toHaveLength(1);
  });

  it('exports one set, which then plans as unchanged with --prune', async () => {
    const out = join(root, 'export');
    expect((await cli(exportCommand, ['--realm', REALM, '--set', 'tools', '--out', out])).code).toBe(0);
    expect(readdirSync(join(out, REALM))).toEqual([`${id('legacy-two')}.yaml`]);
    expect(await cli(planCommand, [out, '--set', 'tools', '--prune', '--detailed-exitcode'])).toMatchObject({ code: 0, out: 'Plan: 0 to create, 0 to change, 0 to delete, 1 unchanged.\nRead: summary (0 accounts read in detail; --refresh reads every account).' });
  });

  it('answers a bad assignment with each bad field', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/gitops/sets/Not_A_Set/assign', headers: authHeaders(await adminToken()), payload: { realm: REALM, clientIds: [] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'set' })]));
    const both = await t.inject({ method: 'POST', url: '/v1/gitops/sets/apps/assign', headers: authHeaders(await adminToken()), payload: { realm: REALM, clientIds: [id('x')], allUnassigned: true } });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors).toEqual([{ field: 'clientIds', message: expect.stringContaining('not both') }]);
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('gitops-sets');
  });
});
