import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { argsFor, type CliCommand } from '../src/common/cli/cli-command.js';
import { systemContext } from '../src/common/context/operation-context.js';
import { applyCommand } from '../src/gitops/cli/apply.command.js';
import { exportCommand } from '../src/gitops/cli/export.command.js';
import { planCommand } from '../src/gitops/cli/plan.command.js';
import { OFFLINE_NOTE, validateCommand } from '../src/gitops/cli/validate.command.js';
import { ServiceAccountsService } from '../src/service-accounts/services/service-accounts.service.js';
import { KeycloakService } from '../src/keycloak/index.js';
import { keycloakAdmin } from './support/keycloak-admin.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { keysmithEnv } from './support/keysmith-env.js';
import { poll } from './support/poll.js';
import { runJob } from './support/jobs.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const REALM = 'platform';
/** The GitOps set of this suite's definitions (sets live in the suite's own database). */
const SET = 'orders-team';

describe('GitOps: validate, plan, apply, prune, export, server mode (real Keycloak)', () => {
  let t: TestApp;
  let dir: string;
  const run = randomBytes(3).toString('hex');
  const id = (name: string) => `gx${run}-${name}`;
  const foreignId = id('foreign');
  let foreignUuid: string | undefined;

  function definition(name: string, spec: string): string {
    return `apiVersion: keysmith/v1\nkind: ServiceAccount\nmetadata:\n  name: ${id(name)}\n  realm: ${REALM}\n  owner: team-gitops\nspec:\n${spec}`;
  }

  function write(root: string, file: string, text: string): void {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }

  async function cli(command: CliCommand, argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await command.run(argsFor(command, argv), { out: (l) => out.push(l), err: (l) => err.push(l) }, async () => t.app);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  async function serviceAccountUser(clientId: string): Promise<string> {
    const [client] = await (await keycloakAdmin()).clients.find({ realm: REALM, clientId, search: false });
    const user = await (await keycloakAdmin()).clients.getServiceAccountUser({ realm: REALM, id: client.id! });
    return user.id!;
  }

  async function realmRolesOf(clientId: string): Promise<string[]> {
    const userId = await serviceAccountUser(clientId);
    const roles = await (await keycloakAdmin()).users.listRealmRoleMappings({ realm: REALM, id: userId });
    return roles.map((r) => r.name!).filter((n) => !n.startsWith('default-roles')).sort();
  }

  beforeAll(async () => {
    t = await createTestApp();
    dir = mkdtempSync(join(tmpdir(), 'keysmith-gitops-e2e-'));
    write(dir, 'orders/workers.yaml', `${definition('sync', '  description: sync worker\n  realmRoles: [orders-reader, orders-writer]\n  clientRoles:\n    orders-api: [read, write]\n  defaultScopes: [read:data]\n  optionalScopes: [write:data]\n')}---\n${definition('audit', '  realmRoles: [orders-reader]\n  defaultScopes: [read:data]\n')}`);
    write(dir, 'reports.yaml', definition('reports', '  realmRoles: [reports-viewer]\n  defaultScopes: [reports:read]\n'));
    // A client Keysmith did not make: never adopted, never pruned.
    foreignUuid = (await (await keycloakAdmin()).clients.create({ realm: REALM, clientId: foreignId, serviceAccountsEnabled: true, publicClient: false })).id;
  });

  afterAll(async () => {
    const service = t.app.get(ServiceAccountsService);
    for (const account of await service.listAll(REALM)) await service.remove(systemContext('cli', 'test-cleanup'), REALM, account.clientId).catch(() => undefined);
    if (foreignUuid) await (await keycloakAdmin()).clients.del({ realm: REALM, id: foreignUuid! }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('validates good files, and names file and line for bad ones including a forbidden grant', async () => {
    expect(await cli(validateCommand, [dir])).toMatchObject({ code: 0, out: '3 definition(s) in 2 file(s) are valid', err: OFFLINE_NOTE });
    const bad = mkdtempSync(join(tmpdir(), 'keysmith-gitops-bad-'));
    try {
      write(bad, 'a.yaml', definition('bad-a', '  realmRoles: [admin]\n'));
      write(bad, 'b.yaml', 'apiVersion: keysmith/v1\nkind: [oops\n');
      write(bad, 'c.yaml', definition('bad-c', '  colour: red\n'));
      const result = await cli(validateCommand, [bad]);
      expect(result.code).toBe(1);
      expect(result.out.split('\n')).toEqual([
        `${join(bad, 'a.yaml')}:8: spec.realmRoles[0]: realm:admin is forbidden by the guard-rail policy`,
        expect.stringMatching(new RegExp(`^${join(bad, 'b.yaml')}:2: \\(document\\): invalid YAML`)),
        `${join(bad, 'c.yaml')}:8: spec.colour: is not a known field`,
      ]);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('plans creates, applies them with the source label, and then plans no changes', async () => {
    const plan = await cli(planCommand, [dir, '--set', SET, '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.out).toContain(`+ ${REALM}/${id('sync')}: create`);
    expect(plan.out).toContain('    + clientRoles.orders-api: write');
    expect(plan.out).toContain('Plan: 3 to create, 0 to change, 0 to delete, 0 unchanged.');

    const apply = await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--source', `commit-${run}`]);
    expect(apply.code).toBe(0);
    expect(apply.out).toContain(`client secret: not printed; read it with GET /v1/realms/${REALM}/service-accounts/${id('sync')}/secret`);
    expect(apply.out).toContain(`Apply complete: 3 created, 0 changed, 0 deleted, 0 unchanged, 0 failed (set ${SET}, source commit-${run}).`);

    const secret = await t.app.get(ServiceAccountsService).readSecret(systemContext('cli', 'test'), REALM, id('sync'));
    t.secrets.add(secret.clientSecret);
    expect(apply.out).not.toContain(secret.clientSecret);
    expect(await realmRolesOf(id('sync'))).toEqual(['orders-reader', 'orders-writer']);

    const account = await t.app.get(ServiceAccountsService).get(systemContext('cli', 'test'), REALM, id('sync'));
    expect(account).toMatchObject({ managedBy: 'gitops', gitopsSet: SET, source: `commit-${run}` });
    const events = await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${id('sync')}`, headers: await authHeader() });
    expect(events.statusCode).toBe(200);
    expect(events.json().items).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'service_account.created', source: `commit-${run}` })]));

    const again = await cli(planCommand, [dir, '--set', SET, '--detailed-exitcode']);
    expect(again).toMatchObject({ code: 0, out: 'Plan: 0 to create, 0 to change, 0 to delete, 3 unchanged.\nRead: summary (0 accounts read in detail; --refresh reads every account).' });
  });

  it('shows exactly an edited field, and a role changed by hand in Keycloak, and apply fixes both', async () => {
    write(dir, 'reports.yaml', definition('reports', '  description: monthly reports\n  realmRoles: [reports-viewer]\n  defaultScopes: [reports:read]\n'));
    const userId = await serviceAccountUser(id('audit'));
    const role = await (await keycloakAdmin()).roles.findOneByName({ realm: REALM, name: 'orders-writer' });
    await (await keycloakAdmin()).users.addRealmRoleMappings({ realm: REALM, id: userId, roles: [{ id: role!.id!, name: role!.name! }] });

    // A role mapping changed by hand leaves the client's summary as it was: a full refresh reads it.
    const plan = await cli(planCommand, [dir, '--set', SET, '--json', '--refresh']);
    const changed = JSON.parse(plan.out).accounts.filter((a: { action: string }) => a.action !== 'noop');
    expect(changed).toEqual([
      expect.objectContaining({ clientId: id('audit'), action: 'update', changes: [{ field: 'realmRoles', action: 'remove', value: 'orders-writer', origin: 'keycloak' }] }),
      expect.objectContaining({ clientId: id('reports'), action: 'update', changes: [{ field: 'description', action: 'set', from: '', to: 'monthly reports' }] }),
    ]);

    // The drift job sees the hand-made change too, records it and (by default) leaves it.
    const drift = await runJob(t, 'drift', {}, await authHeader());
    expect(drift.details).toEqual(
      expect.arrayContaining([{ realm: REALM, clientId: id('audit'), changes: [{ field: 'realmRoles', action: 'remove', value: 'orders-writer', origin: 'keycloak' }], repaired: false }]),
    );
    expect(drift.details.map((d: { clientId: string }) => d.clientId)).not.toContain(id('reports'));
    const runs = await t.inject({ method: 'GET', url: '/v1/jobs/drift/runs', headers: await authHeader() });
    expect(runs.json().items[0]).toMatchObject({ id: drift.id, outcome: 'success', counts: expect.objectContaining({ drifted: expect.any(Number) }) });
    const detected = await t.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.drift_detected&clientId=${id('audit')}`, headers: await authHeader() });
    expect(detected.json().items).toHaveLength(1);
    expect(await realmRolesOf(id('audit'))).toEqual(['orders-reader', 'orders-writer']);

    // Apply reads like plan: the hand-made role mapping is undone by an apply that refreshes.
    const apply = await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--source', `fix-${run}`, '--refresh']);
    expect(apply.code).toBe(0);
    expect(apply.out).toContain('Apply complete: 0 created, 2 changed, 0 deleted, 1 unchanged, 0 failed');
    expect(await realmRolesOf(id('audit'))).toEqual(['orders-reader']);
    expect((await cli(planCommand, [dir, '--set', SET, '--detailed-exitcode'])).code).toBe(0);
  });

  it('lists a failing account without hiding the others, never adopting a foreign client', async () => {
    write(dir, 'zz-foreign.yaml', `${definition('foreign', '  realmRoles: [orders-reader]\n')}---\n${definition('extra', '  realmRoles: [orders-reader]\n')}`);
    const plan = await cli(planCommand, [dir, '--set', SET]);
    expect(plan.code).toBe(1);
    expect(plan.out).toContain(`✗ CLIENT_EXISTS: A client ${foreignId} exists in realm ${REALM} but Keysmith did not make it`);

    const apply = await cli(applyCommand, [dir, '--set', SET, '--auto-approve']);
    expect(apply.code).toBe(1);
    expect(apply.out).toContain(`+ ${REALM}/${id('extra')}: created`);
    expect(apply.out).toContain(`✗ ${REALM}/${foreignId}: create failed: CLIENT_EXISTS`);
    expect(apply.out).toContain('1 created, 0 changed, 0 deleted, 3 unchanged, 1 failed');
    rmSync(join(dir, 'zz-foreign.yaml'));
  });

  it('refuses a foreign client by its look-up also where no definition names an existing account (the realm\'s client list is then not read)', async () => {
    const alone = mkdtempSync(join(tmpdir(), 'keysmith-gitops-e2e-alone-'));
    try {
      write(alone, 'foreign.yaml', definition('foreign', '  realmRoles: [orders-reader]\n'));
      const apply = await cli(applyCommand, [alone, '--set', 'foreign-only', '--auto-approve']);
      expect(apply.code).toBe(1);
      expect(apply.out).toContain(`✗ ${REALM}/${foreignId}: create failed: CLIENT_EXISTS: A client ${foreignId} exists in realm ${REALM} but Keysmith did not make it`);
      expect(await t.app.get(ServiceAccountsService).listAll(REALM)).not.toContainEqual(expect.objectContaining({ clientId: foreignId }));
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });

  it('prunes only with --prune, only GitOps-managed accounts, within the deletion cap', async () => {
    rmSync(join(dir, 'reports.yaml'));
    const plain = await cli(planCommand, [dir, '--set', SET]);
    expect(plain.out).toContain(`${REALM}/${id('reports')}: not in the definitions; kept (set ${SET}; deleted only with --prune)`);
    expect((await cli(applyCommand, [dir, '--set', SET, '--auto-approve'])).code).toBe(0);
    expect(await t.app.get(ServiceAccountsService).findLive(REALM, id('reports'))).not.toBeNull();

    const capped = await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--prune', '--max-deletions', '1']);
    expect(capped.code).toBe(1);
    expect(capped.out).toContain('✗ refused: 2 deletions exceed the limit of 1 per run; nothing was applied');
    expect(await t.app.get(ServiceAccountsService).findLive(REALM, id('reports'))).not.toBeNull();

    const pruned = await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain(`- ${REALM}/${id('reports')}: deleted`);
    expect(pruned.out).toContain(`- ${REALM}/${id('extra')}: deleted`);
    expect(await t.app.get(ServiceAccountsService).findLive(REALM, id('reports'))).toBeNull();
    const foreign = await (await keycloakAdmin()).clients.find({ realm: REALM, clientId: foreignId, search: false });
    expect(foreign).toHaveLength(1);
  });

  it('exports definitions that plan as unchanged', async () => {
    const out = mkdtempSync(join(tmpdir(), 'keysmith-gitops-export-'));
    try {
      expect((await cli(exportCommand, ['--realm', REALM, '--out', out])).code).toBe(0);
      expect(readdirSync(join(out, REALM)).sort()).toEqual([`${id('audit')}.yaml`, `${id('sync')}.yaml`]);
      expect(await cli(planCommand, [out, '--set', SET, '--prune', '--detailed-exitcode'])).toMatchObject({ code: 0, out: 'Plan: 0 to create, 0 to change, 0 to delete, 2 unchanged.\nRead: summary (0 accounts read in detail; --refresh reads every account).' });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('gives the same plan through a running server with a token as in-process', async () => {
    write(dir, 'later.yaml', definition('later', '  realmRoles: [orders-reader]\n'));
    const local = await cli(planCommand, [dir, '--set', SET, '--json', '--prune']);
    process.env.KEYSMITH_TOKEN = (await authHeader()).authorization.slice('Bearer '.length);
    try {
      const remote = await cli(planCommand, [dir, '--set', SET, '--json', '--prune', '--server', t.baseUrl]);
      expect(remote.code).toBe(local.code);
      expect(JSON.parse(remote.out)).toEqual(JSON.parse(local.out));
      expect(JSON.parse(remote.out).summary).toMatchObject({ create: 1, noop: 2 });
    } finally {
      delete process.env.KEYSMITH_TOKEN;
    }
    rmSync(join(dir, 'later.yaml'));
  });

  it('answers a bad bundle with each bad field by index', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/v1/gitops/plan',
      headers: await authHeader(),
      payload: { definitions: [{ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: 'X', realm: REALM, owner: 'o' } }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'definitions[0].metadata.name', message: expect.stringContaining('must match') }]);
  });

  it('refuses, as a process, an option the command does not take, and prints a command\'s usage on --help', async () => {
    const cliProcess = (argv: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(process.execPath, [join(process.cwd(), 'dist/cli.js'), ...argv], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } }, (error, out, err) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
        );
      });
    // A misspelt cap would otherwise apply (and prune) without it.
    const misspelt = await cliProcess(['apply', dir, '--set', SET, '--prune', '--max-deletion', '0', '--auto-approve']);
    expect(misspelt).toMatchObject({ code: 1, out: '' });
    expect(misspelt.err).toContain('unknown option --max-deletion for keysmith apply\nusage: keysmith apply DIR');
    const forged = await cliProcess(['apply', dir, '--set', SET, '--source', 'c0ffee\nforged line', '--auto-approve']);
    expect(forged).toMatchObject({ code: 1, out: '' });
    expect(forged.err).toContain('--source: must not contain control characters');
    // A bad variable is named with its reason, before anything runs, with no stack trace.
    const misconfigured = await cliProcess(['plan', dir], { KEYCLOAK_MAX_CONCURRENCY: 'four' });
    expect(misconfigured).toMatchObject({ code: 1, out: '' });
    expect(misconfigured.err).toMatch(/^Invalid configuration:\n/);
    expect(misconfigured.err).toContain('\n  - KEYCLOAK_MAX_CONCURRENCY: must be a whole number from 1 to 64\n');
    expect(misconfigured.err).not.toMatch(/\bat \S+ \(|ExceptionHandler/);
    const help = await cliProcess(['plan', '--help']);
    expect(help).toMatchObject({ code: 0, err: '' });
    expect(help.out).toMatch(/^usage: keysmith plan DIR \[--set NAME\][^\n]*--detailed-exitcode/);
  });

  it('stops an in-process apply on SIGTERM: the accounts under way are finished, no other is started, and the summary says which', async () => {
    const stopDir = mkdtempSync(join(tmpdir(), 'keysmith-gitops-stop-'));
    const names = Array.from({ length: 6 }, (_, i) => id(`stop-${i}`));
    try {
      for (const name of names) write(stopDir, `${name}.yaml`, definition(name.slice(id('').length), '  realmRoles: [orders-reader]\n'));
      // Two accounts at a time (twice KEYCLOAK_MAX_CONCURRENCY), the first one held for 4 s once its client exists.
      const env = keysmithEnv(t.dataDir, { KEYCLOAK_MAX_CONCURRENCY: '1', KEYSMITH_FAULT_POINTS: 'provision.client-created=pause:4000@1', LOG_LEVEL: 'warn' });
      const child = spawn(process.execPath, [join(process.cwd(), 'dist/cli.js'), 'apply', stopDir, '--set', 'stop-test', '--auto-approve', '--json'], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const kc = await keycloakAdmin();
      const firstClient = () => Promise.all(names.slice(0, 2).map((clientId) => kc.clients.find({ realm: REALM, clientId, search: false })));
      await poll(firstClient, (found) => found.some((clients) => clients.length > 0), 60_000);
      child.kill('SIGTERM');
      expect(await exited).toBe(1);

      expect(err).toContain('SIGTERM: finishing the accounts under way, starting no other');
      const summary = JSON.parse(out) as { ok: boolean; applied: { clientId: string; action: string }[]; failed: unknown[]; stopped: { reason: string; notStarted: { clientId: string }[] } };
      expect(summary).toMatchObject({ ok: false, failed: [], stopped: { reason: 'SIGTERM received' } });
      const created = summary.applied.map((account) => account.clientId);
      const notStarted = summary.stopped.notStarted.map((account) => account.clientId);
      expect(notStarted.length).toBeGreaterThan(0);
      expect([...created, ...notStarted].sort()).toEqual([...names].sort());
      // Nothing half-made: what was started is complete in Keycloak and Keysmith, the rest is not there at all.
      for (const clientId of created) {
        expect((await kc.clients.find({ realm: REALM, clientId, search: false })).length).toBe(1);
        expect((await t.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${clientId}`, headers: await authHeader() })).json()).toMatchObject({ state: 'active', gitopsSet: 'stop-test' });
      }
      for (const clientId of notStarted) {
        expect(await kc.clients.find({ realm: REALM, clientId, search: false })).toEqual([]);
        expect((await t.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${clientId}`, headers: await authHeader() })).statusCode).toBe(404);
      }
    } finally {
      rmSync(stopDir, { recursive: true, force: true });
    }
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('gitops');
  });

  let token: string | undefined;
  async function authHeader(): Promise<{ authorization: string }> {
    if (!token) {
      const seeded = keycloakEnv();
      const result = await t.app.get(KeycloakService).clientCredentials(seeded.KEYSMITH_JWT_REALM, seeded.KEYSMITH_TEST_CLIENT_ID, seeded.KEYSMITH_TEST_CLIENT_SECRET);
      token = result.accessToken!;
      t.secrets.add(token);
    }
    return { authorization: `Bearer ${token}` };
  }
});
