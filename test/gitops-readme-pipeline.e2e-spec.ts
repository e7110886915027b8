import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { argsFor } from '../src/common/cli/cli-command.js';
import { COMMANDS } from '../src/cli.commands.js';
import { systemContext } from '../src/common/context/operation-context.js';
import { loadDefinitions } from '../src/gitops/definitions/definition-loader.js';
import { ServiceAccountsService } from '../src/service-accounts/services/service-accounts.service.js';
import { apiKeyHeaders } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const REALM = 'platform';

/** The lines of the first fenced block of `language` after `heading`, with `\` continuations joined. */
function fencedBlock(markdown: string, heading: string, language: string): string[] {
  const from = markdown.indexOf(heading);
  if (from < 0) throw new Error(`no "${heading}" in the README`);
  const open = markdown.indexOf('```' + language + '\n', from);
  const close = markdown.indexOf('\n```', open + 4);
  return markdown.slice(open + language.length + 4, close).replace(/\\\n\s*/g, '').split('\n');
}

/** Shell words, as the README's commands use them: plain words and double- or single-quoted ones. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/**
 * The bootstrap and the example pipeline exactly as the READMEs write them: the commands are read
 * from README.md ("Bootstrap") and examples/gitops/README.md (the workflow) and run through the
 * `keysmith` command table, in-process for the bootstrap and with `--server` against this app for
 * the pipeline. Only the clientIds get a per-run suffix, since Keycloak is shared between runs.
 */
describe('README: bootstrap, then the example pipeline with --prune, leave the bootstrap account and its keys alone (real Keycloak)', () => {
  let t: TestApp;
  let root: string;
  const run = randomBytes(3).toString('hex');
  const renamed = new Map<string, string>();
  const copies: Record<string, string> = {};
  const keys: Record<string, string> = {};
  const operatorId = () => renamed.get('platform-operator')!;

  /** Copies an example folder, giving each account a clientId unique to this run. */
  async function copyExample(source: string): Promise<string> {
    const target = join(root, source.replace(/\W+/g, '-'));
    cpSync(source, target, { recursive: true });
    const loaded = await loadDefinitions(source);
    for (const { definition } of loaded.definitions) renamed.set(definition.metadata.name, `${definition.metadata.name}-${run}`);
    const rewrite = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) rewrite(path);
        else if (/\.(ya?ml|json)$/.test(entry)) {
          let text = readFileSync(path, 'utf8');
          for (const [from, to] of renamed) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), to);
          writeFileSync(path, text);
        }
      }
    };
    rewrite(target);
    return target;
  }

  /** Runs one README command line through the `keysmith` command table. */
  async function keysmith(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const [name, ...rest] = argv;
    const command = COMMANDS.find((c) => c.name === `${name} ${rest[0] ?? ''}`.trim()) ?? COMMANDS.find((c) => c.name === name);
    if (!command) throw new Error(`the README names an unknown command: ${argv.join(' ')}`);
    const args = (command.name.includes(' ') ? rest.slice(1) : rest).map((word) => copies[word] ?? renamed.get(word) ?? word);
    const out: string[] = [];
    const err: string[] = [];
    const code = await command.run(argsFor(command, args), { out: (l) => out.push(l), err: (l) => err.push(l) }, async () => t.app);
    for (const line of out) if (/^sk_(live|test)_/.test(line)) t.secrets.add(line);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  const bootstrap = () =>
    fencedBlock(readFileSync('README.md', 'utf8'), "### Bootstrap: the first key for Keysmith's own API", 'bash')
      .filter((line) => line.startsWith('node dist/cli.js '))
      .map((line) => words(line).slice(2));

  const pipeline = () => {
    const block = fencedBlock(readFileSync('examples/gitops/README.md', 'utf8'), '## A pipeline', 'yaml');
    const env = Object.fromEntries(block.map((l) => l.match(/^ {2}([A-Z_]+): (.+)$/)).filter((m) => m !== null).map((m) => [m![1], m![2]]));
    const commands = block
      .map((line) => line.trim().replace(/^(- )?run: /, ''))
      .filter((line) => line.startsWith('$KEYSMITH '))
      .map((line) => {
        const argv = words(line.slice('$KEYSMITH '.length));
        // The command ends at a redirection or a comment.
        const end = argv.findIndex((word) => word === '>' || word.startsWith('#'));
        return (end >= 0 ? argv.slice(0, end) : argv).map((w) => (w === '$KEYSMITH_SERVER' ? t.baseUrl : w === '${GITHUB_SHA::12}' ? `c0ffee${run}` : w));
      });
    return { env, commands };
  };

  beforeAll(async () => {
    t = await createTestApp();
    root = mkdtempSync(join(tmpdir(), 'keysmith-readme-e2e-'));
    // The workflow's environment, as CI sets it (definitions use ${DEPLOY_ENV}).
    process.env.DEPLOY_ENV = pipeline().env.DEPLOY_ENV;
    copies['examples/bootstrap'] = await copyExample('examples/bootstrap');
    copies['keysmith/'] = await copyExample('examples/gitops');
    expect([...renamed.keys()].sort()).toEqual(['orders-audit-reader', 'orders-sync-worker', 'partner-acme-webhooks', 'platform-operator', 'reports-exporter']);
  });

  afterAll(async () => {
    const service = t.app.get(ServiceAccountsService);
    for (const account of await service.listAll(REALM)) await service.remove(systemContext('cli', 'test-cleanup'), REALM, account.clientId).catch(() => undefined);
    delete process.env.KEYSMITH_TOKEN;
    delete process.env.DEPLOY_ENV;
    rmSync(root, { recursive: true, force: true });
    await t.close();
  });

  it('bootstraps as README.md says: the operator account in its own set, then its keys, in-process', async () => {
    const commands = bootstrap();
    expect(commands.map((argv) => argv.slice(0, 2).join(' '))).toEqual(['apply examples/bootstrap', 'keys create', 'keys create']);
    expect(commands[0]).toEqual(expect.arrayContaining(['--set', 'bootstrap']));

    expect(await keysmith(commands[0])).toMatchObject({ code: 0, out: expect.stringContaining('1 created') });
    expect(await t.app.get(ServiceAccountsService).findLive(REALM, operatorId())).toMatchObject({ managedBy: 'gitops', gitopsSet: 'bootstrap', owner: 'platform-team' });
    for (const argv of commands.slice(1)) {
      const issued = await keysmith(argv);
      expect(issued.code).toBe(0);
      keys[argv[argv.indexOf('--name') + 1]] = issued.out;
    }
    expect(Object.keys(keys).sort()).toEqual(['bootstrap', 'gitops-pipeline']);
  });

  it('refuses a key with gitops:apply alone for the example definitions, which belong to other owners', async () => {
    const narrow = await keysmith(['keys', 'create', '--realm', REALM, '--client', operatorId(), '--scopes', 'gitops:apply', '--name', 'too-narrow']);
    const definitions = (await loadDefinitions(copies['keysmith/'])).definitions.map((d) => d.definition);
    const res = await t.inject({ method: 'POST', url: '/v1/gitops/plan', headers: apiKeyHeaders(narrow.out), payload: { definitions, set: 'platform-services' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().accounts.map((a: { error?: { code: string } }) => a.error?.code)).toEqual(Array(4).fill('OWNER_FORBIDDEN'));
  });

  it('runs the example pipeline as its README says, with the pipeline key: validate, plan, apply, then plan and apply with --prune again', async () => {
    const { env, commands } = pipeline();
    expect(commands.map((argv) => argv[0])).toEqual(['validate', 'plan', 'apply']);
    const [validate, plan, apply] = commands;
    expect(plan).toEqual(expect.arrayContaining(['--set', 'platform-services', '--prune', '--server', t.baseUrl]));
    expect(apply).toEqual(expect.arrayContaining(['--set', 'platform-services', '--prune', '--server', t.baseUrl]));
    expect(env.DEPLOY_ENV).toBe(process.env.DEPLOY_ENV);
    process.env.KEYSMITH_TOKEN = keys['gitops-pipeline'];

    expect(await keysmith(validate)).toMatchObject({ code: 0, out: '4 definition(s) in 3 file(s) are valid' });
    const first = await keysmith(plan);
    expect(first.code).toBe(2);
    expect(first.out).toContain('Plan: 4 to create, 0 to change, 0 to delete, 0 unchanged.');
    expect(first.out).not.toContain(operatorId());
    const applied = await keysmith(apply);
    expect(applied.code).toBe(0);
    expect(applied.out).toContain(`Apply complete: 4 created, 0 changed, 0 deleted, 0 unchanged, 0 failed (set platform-services, source c0ffee${run}).`);

    for (let round = 0; round < 2; round += 1) {
      expect(await keysmith(plan)).toEqual({ code: 0, out: 'Plan: 0 to create, 0 to change, 0 to delete, 4 unchanged.\nRead: summary (0 accounts read in detail; --refresh reads every account).', err: '' });
      expect(await keysmith(apply)).toMatchObject({ code: 0, out: expect.stringContaining('0 created, 0 changed, 0 deleted, 4 unchanged, 0 failed') });
    }
  });

  it('leaves the bootstrap account and both its keys working', async () => {
    expect(await t.app.get(ServiceAccountsService).findLive(REALM, operatorId())).toMatchObject({ gitopsSet: 'bootstrap' });
    const listed = await t.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts`, headers: apiKeyHeaders(keys.bootstrap) });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((a: { clientId: string }) => a.clientId)).toEqual([operatorId()]);
    const keyList = await t.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${operatorId()}/api-keys`, headers: apiKeyHeaders(keys.bootstrap) });
    expect(keyList.json().items.map((k: { name: string; status: string }) => `${k.name}:${k.status}`).sort()).toEqual(['bootstrap:active', 'gitops-pipeline:active', 'too-narrow:active']);
    const planned = await t.inject({ method: 'POST', url: '/v1/gitops/plan', headers: apiKeyHeaders(keys['gitops-pipeline']), payload: { definitions: [] } });
    expect(planned.statusCode).toBe(200);
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('gitops-readme-pipeline');
  });
});
