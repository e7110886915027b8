import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { argsFor, type CliCommand } from '../src/common/cli/cli-command.js';
import { systemContext } from '../src/common/context/operation-context.js';
import { ErrorCode } from '../src/common/errors/error-code.js';
import { setFaultPoints } from '../src/common/faults/fault-points.js';
import { applyCommand } from '../src/gitops/cli/apply.command.js';
import { planCommand } from '../src/gitops/cli/plan.command.js';
import type { ApplySummary, GitopsPlan } from '../src/gitops/gitops.types.js';
import { KeycloakClientsGateway, KeycloakService } from '../src/keycloak/index.js';
import { ServiceAccountsService } from '../src/service-accounts/services/service-accounts.service.js';
import { keycloakAdmin } from './support/keycloak-admin.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { runJob } from './support/jobs.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const REALM = 'platform';
const SET = 'plan-reading';
/** Every detail read of an account reads its role mappings: failing that call shows which accounts were read in detail. */
const DETAIL_READ_FAILS = 'keycloak.list-role-mappings=unavailable';

describe('GitOps plan reading: client list summaries, detail reads only where needed, --refresh (real Keycloak)', () => {
  let t: TestApp;
  let dir: string;
  const run = randomBytes(3).toString('hex');
  // Keycloak lists a realm's clients ordered by clientId, and other suites delete clients of the
  // realm while this one reads it in pages: a deletion before one of this suite's clients moves it
  // to an earlier offset, across a page already read. Names starting `aa` sort before the clients
  // of every other suite, so only this suite's run on the other database (its own four `aa`
  // names, removed when it ends) sorts before them.
  const id = (name: string) => `aa${run}-${name}`;
  const names = ['one', 'two', 'three', 'four'];

  function define(name: string, description = 'reader'): void {
    writeFileSync(
      join(dir, `${name}.yaml`),
      `apiVersion: keysmith/v1\nkind: ServiceAccount\nmetadata:\n  name: ${id(name)}\n  realm: ${REALM}\n  owner: team-reading\nspec:\n  description: ${description}\n  realmRoles: [orders-reader]\n  defaultScopes: [read:data]\n`,
    );
  }

  async function cli(command: CliCommand, argv: string[]): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const code = await command.run(argsFor(command, argv), { out: (l) => out.push(l), err: () => undefined }, async () => t.app);
    return { code, out: out.join('\n') };
  }

  async function plan(...flags: string[]): Promise<GitopsPlan> {
    return JSON.parse((await cli(planCommand, [dir, '--set', SET, '--json', ...flags])).out) as GitopsPlan;
  }

  const reads = () => t.app.get(KeycloakService).callCount.read;
  /** The reads one client list of the realm takes now (its pages, in waves). */
  const listReads = async () => {
    const start = reads();
    await t.app.get(KeycloakClientsGateway).clientSummaries(REALM);
    return reads() - start;
  };
  /** A summary's data, without its methods. */
  const fields = (summary: object | undefined) => summary && Object.fromEntries(Object.entries(summary).filter(([, value]) => typeof value !== 'function'));

  beforeAll(async () => {
    t = await createTestApp();
    dir = mkdtempSync(join(tmpdir(), 'keysmith-plan-reading-'));
    for (const name of names) define(name);
    expect((await cli(applyCommand, [dir, '--set', SET, '--auto-approve'])).code).toBe(0);
  });

  afterEach(() => setFaultPoints(undefined));

  afterAll(async () => {
    const service = t.app.get(ServiceAccountsService);
    for (const account of await service.listAll(REALM)) await service.remove(systemContext('cli', 'test-cleanup'), REALM, account.clientId).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('plans unchanged definitions from the client list alone: no account is read in detail', async () => {
    const list = await listReads();
    const before = reads();
    setFaultPoints(DETAIL_READ_FAILS);
    const result = await plan();
    expect(result.read).toEqual({ mode: 'summary', detailed: 0 });
    expect(result.summary).toMatchObject({ noop: names.length, errors: 0, update: 0 });
    // A detail read is five Admin REST reads per account; the summary plan reads the list (and, when the
    // 5 s catalog cache has expired on a slow machine, the realm's roles and scopes again): fewer than one
    // detail read's worth beyond the list's own pages.
    expect(reads() - before).toBeLessThan(list + 5);
    const text = await cli(planCommand, [dir, '--set', SET]);
    expect(text.out).toContain('Read: summary (0 accounts read in detail; --refresh reads every account).');
  });

  it('reads the client list in waves of pages, and a small page size yields the same clients as one large page', async () => {
    const gateway = t.app.get(KeycloakClientsGateway);
    const whole = await gateway.clientSummaries(REALM, 10_000);
    // Pages small enough for at least three waves of KEYCLOAK_MAX_CONCURRENCY pages, the last one short.
    const wave = t.config.keycloak.maxConcurrency;
    const pageSize = Math.max(1, Math.floor(whole.size / (2 * wave + 1)));
    const before = reads();
    const paged = await gateway.clientSummaries(REALM, pageSize);
    const calls = reads() - before;
    // Other suites may change the realm meanwhile: this suite's clients are compared in full.
    for (const name of names) expect(fields(paged.get(id(name)))).toEqual(fields(whole.get(id(name))));
    expect(paged.get(id('one'))).toMatchObject({ managed: true });
    expect(calls % wave).toBe(0);
    expect(calls).toBeGreaterThan(2 * wave);
    expect(calls).toBeGreaterThanOrEqual(Math.ceil((paged.size + 1) / pageSize));
  });

  it('reads in detail only the account whose definition changed', async () => {
    define('two', 'reader, renamed');
    try {
      const result = await plan();
      expect(result.read).toEqual({ mode: 'summary', detailed: 1 });
      expect(result.accounts.filter((a) => a.action !== 'noop')).toEqual([
        expect.objectContaining({ clientId: id('two'), action: 'update', changes: [{ field: 'description', action: 'set', from: 'reader', to: 'reader, renamed' }] }),
      ]);
      setFaultPoints(DETAIL_READ_FAILS);
      const failing = await plan();
      expect(failing.accounts.filter((a) => a.action === 'error').map((a) => [a.clientId, a.error?.code])).toEqual([[id('two'), ErrorCode.KeycloakUnavailable]]);
    } finally {
      define('two');
    }
  });

  it('with --refresh reads every account in detail', async () => {
    const before = reads();
    const result = await plan('--refresh');
    expect(result.read).toEqual({ mode: 'full-refresh', detailed: names.length });
    expect(reads() - before).toBeGreaterThanOrEqual(names.length * 5);
    expect((await cli(planCommand, [dir, '--set', SET, '--refresh'])).out).toContain(`Read: full refresh (${names.length} accounts read in detail).`);
    setFaultPoints(DETAIL_READ_FAILS);
    expect((await plan('--refresh')).summary.errors).toBe(names.length);
  });

  it('applies unchanged definitions from the client list too: no account read in detail, nothing written in Keycloak', async () => {
    const list = await listReads();
    const before = { ...t.app.get(KeycloakService).callCount };
    setFaultPoints(DETAIL_READ_FAILS);
    const result = await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.out) as ApplySummary;
    expect(summary.applied.map((a) => a.action)).toEqual(names.map(() => 'unchanged'));
    const after = t.app.get(KeycloakService).callCount;
    expect(after.write - before.write).toBe(0);
    expect(after.read - before.read).toBeLessThan(list + 5);
  });

  it('apply --refresh reads every account in detail', async () => {
    setFaultPoints(DETAIL_READ_FAILS);
    const result = await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--json', '--refresh']);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.out) as ApplySummary;
    expect(summary.failed.map((f) => f.code)).toEqual(names.map(() => ErrorCode.KeycloakUnavailable));
    setFaultPoints(undefined);
    const refreshed = await t.inject({ method: 'POST', url: '/v1/gitops/apply', headers: await authHeader(), payload: { definitions: definitionsOf(), set: SET, refresh: true } });
    expect(refreshed.json()).toMatchObject({ ok: true, applied: names.map(() => expect.objectContaining({ action: 'unchanged' })) });
  });

  const definitionsOf = () =>
    names.map((name) => ({
      apiVersion: 'keysmith/v1',
      kind: 'ServiceAccount',
      metadata: { name: id(name), realm: REALM, owner: 'team-reading' },
      spec: { description: 'reader', realmRoles: ['orders-reader'], defaultScopes: ['read:data'] },
    }));

  it('the HTTP plan takes refresh and says which read it used', async () => {
    const definitions = names.map((name) => ({
      apiVersion: 'keysmith/v1',
      kind: 'ServiceAccount',
      metadata: { name: id(name), realm: REALM, owner: 'team-reading' },
      spec: { description: 'reader', realmRoles: ['orders-reader'], defaultScopes: ['read:data'] },
    }));
    const headers = await authHeader();
    const summary = await t.inject({ method: 'POST', url: '/v1/gitops/plan', headers, payload: { definitions, set: SET } });
    expect(summary.json()).toMatchObject({ read: { mode: 'summary', detailed: 0 }, summary: { noop: names.length } });
    const full = await t.inject({ method: 'POST', url: '/v1/gitops/plan', headers, payload: { definitions, set: SET, refresh: true } });
    expect(full.json()).toMatchObject({ read: { mode: 'full-refresh', detailed: names.length }, summary: { noop: names.length } });
    const bad = await t.inject({ method: 'POST', url: '/v1/gitops/plan', headers, payload: { definitions, set: SET, refresh: 'yes' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('refresh');
  });

  it('a role mapping changed by an admin behind Keysmith: the summary plan keeps to its bound, --refresh and the drift job find it', async () => {
    const admin = await keycloakAdmin();
    const [client] = await admin.clients.find({ realm: REALM, clientId: id('three'), search: false });
    const user = await admin.clients.getServiceAccountUser({ realm: REALM, id: client.id! });
    const role = await admin.roles.findOneByName({ realm: REALM, name: 'orders-writer' });
    await admin.users.addRealmRoleMappings({ realm: REALM, id: user.id!, roles: [{ id: role!.id!, name: role!.name! }] });

    // The documented bound: the client list does not carry role mappings.
    expect((await plan()).summary.update).toBe(0);
    const refreshed = await plan('--refresh');
    expect(refreshed.accounts.filter((a) => a.action !== 'noop')).toEqual([
      expect.objectContaining({ clientId: id('three'), action: 'update', changes: [expect.objectContaining({ field: 'realmRoles', action: 'remove', value: 'orders-writer' })] }),
    ]);
    const drift = await runJob(t, 'drift', {}, await authHeader());
    expect(drift.details).toEqual(expect.arrayContaining([expect.objectContaining({ clientId: id('three'), changes: [expect.objectContaining({ field: 'realmRoles', action: 'remove', value: 'orders-writer' })] })]));

    // Apply keeps the same bound: from the client list it leaves the account be; with --refresh it puts the role back.
    const kept = JSON.parse((await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--json'])).out) as ApplySummary;
    expect(kept.applied.filter((a) => a.action !== 'unchanged')).toEqual([]);
    const repaired = JSON.parse((await cli(applyCommand, [dir, '--set', SET, '--auto-approve', '--json', '--refresh'])).out) as ApplySummary;
    expect(repaired.applied.filter((a) => a.action !== 'unchanged')).toEqual([
      expect.objectContaining({ clientId: id('three'), action: 'updated', changes: [expect.objectContaining({ field: 'realmRoles', action: 'remove', value: 'orders-writer' })] }),
    ]);
    expect((await admin.users.listRealmRoleMappings({ realm: REALM, id: user.id! })).map((r) => r.name)).not.toContain('orders-writer');
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
