import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acknowledged, call, refused, type Answer } from './api.js';
import { type Cluster, type Prng } from './cluster.js';
import { makeRotationDue } from './database.js';
import { addCandidate, applyChange, certainScopes, normalize, patchBody, type AccountModel, type GrantChange, type Grants } from './model.js';

const REALM_ROLES = ['orders-reader', 'orders-writer', 'reports-viewer'];
const SCOPES = ['read:data', 'write:data', 'reports:read'];
const CLIENT_ROLES = ['read', 'write'];

export type OperationKind = 'create' | 'patch' | 'issue-key' | 'revoke-key' | 'rotate-api' | 'rotate-job' | 'delete' | 'cli';
const WEIGHTS: [OperationKind, number][] = [
  ['create', 18], ['patch', 24], ['issue-key', 20], ['revoke-key', 10], ['rotate-api', 12], ['rotate-job', 5], ['delete', 4], ['cli', 7],
];

/**
 * The operations of a chaos run and the model of what Keysmith acknowledged. One operation at a
 * time per account, so every answer maps to one known prior state.
 */
export class Driver {
  readonly accounts = new Map<string, AccountModel>();
  readonly counts = new Map<string, number>();
  private readonly inUse = new Set<string>();
  private cliBusy = false;
  private created = 0;
  private readonly gitopsSet: string;
  private gitopsDefs = new Map<string, Grants>();
  private gitopsSerial = 0;

  constructor(
    readonly cluster: Cluster,
    readonly prng: Prng,
    readonly realm: string,
    readonly prefix: string,
    readonly log: (line: string) => void,
  ) {
    this.gitopsSet = `${prefix}-set`;
  }

  private pickKind(): OperationKind {
    let roll = this.prng.int(WEIGHTS.reduce((sum, [, w]) => sum + w, 0));
    for (const [kind, weight] of WEIGHTS) {
      if (roll < weight) return kind;
      roll -= weight;
    }
    return 'create';
  }

  /** A free API-made account that is acknowledged to exist, taken for this operation. */
  private take(origin: AccountModel['origin'] = 'api'): AccountModel | undefined {
    const free = [...this.accounts.values()].filter((a) => a.origin === origin && a.exists === 'yes' && !this.inUse.has(a.clientId));
    if (free.length === 0) return undefined;
    const account = this.prng.pick(free);
    this.inUse.add(account.clientId);
    return account;
  }

  /** Runs one operation; falls back to a create when the chosen kind has nothing to act on. */
  async runOne(): Promise<OperationKind> {
    let kind = this.pickKind();
    if (kind === 'cli' && this.cliBusy) kind = 'create';
    const account = kind === 'create' || kind === 'cli' || kind === 'rotate-job' ? undefined : this.take();
    if (!account && !['create', 'cli', 'rotate-job'].includes(kind)) kind = 'create';
    try {
      if (kind === 'create') await this.create();
      else if (kind === 'patch') await this.patch(account!);
      else if (kind === 'issue-key') await this.issueKey(account!);
      else if (kind === 'revoke-key') await this.revokeKey(account!);
      else if (kind === 'rotate-api') await this.rotateApi(account!);
      else if (kind === 'delete') await this.remove(account!);
      else if (kind === 'rotate-job') await this.rotateJob();
      else await this.cli();
    } finally {
      if (account) this.inUse.delete(account.clientId);
    }
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    return kind;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Answer> {
    const instance = await this.cluster.availableSoon(this.prng);
    return call(instance.url, method, path, body);
  }

  private accountPath(clientId: string): string {
    return `/v1/realms/${this.realm}/service-accounts/${clientId}`;
  }

  private randomGrants(): Grants {
    const some = (list: string[]) => list.filter(() => this.prng.chance(0.5));
    const clientRoles = some(CLIENT_ROLES);
    return normalize({ realmRoles: some(REALM_ROLES), clientRoles: clientRoles.length ? { 'orders-api': clientRoles } : {}, defaultScopes: some(SCOPES), optionalScopes: [] });
  }

  private async create(): Promise<void> {
    this.created += 1;
    const clientId = `${this.prefix}-a${this.created}`;
    const grants = this.randomGrants();
    const account: AccountModel = { realm: this.realm, clientId, origin: 'api', exists: 'unknown', candidates: [grants], keys: [] };
    this.accounts.set(clientId, account);
    this.inUse.add(clientId);
    try {
      const answer = await this.send('POST', `/v1/realms/${this.realm}/service-accounts`, { clientId, owner: 'chaos', description: 'chaos run', ...grants, secretRotation: { everyDays: 30, graceHours: 1 } });
      if (acknowledged(answer, 201)) account.exists = 'yes';
      else if (refused(answer)) account.exists = 'no';
    } finally {
      this.inUse.delete(clientId);
    }
  }

  private randomChange(account: AccountModel): GrantChange {
    const field = this.prng.pick(['realmRoles', 'defaultScopes', 'optionalScopes', 'clientRoles'] as const);
    const op = this.prng.chance(0.5) ? 'add' : 'remove';
    if (field === 'clientRoles') return { field, op, name: this.prng.pick(CLIENT_ROLES), client: 'orders-api' };
    const pool = field === 'realmRoles' ? REALM_ROLES : SCOPES;
    // A scope is either default or optional: add one as optional only when no state holds it as default.
    const taken = field === 'optionalScopes' ? account.candidates.flatMap((c) => c.defaultScopes) : field === 'defaultScopes' ? account.candidates.flatMap((c) => c.optionalScopes) : [];
    const choices = op === 'add' ? pool.filter((name) => !taken.includes(name)) : pool;
    return { field, op, name: this.prng.pick(choices.length ? choices : pool) };
  }

  private async patch(account: AccountModel): Promise<void> {
    const change = this.randomChange(account);
    const answer = await this.send('PATCH', this.accountPath(account.clientId), patchBody(change));
    if (acknowledged(answer, 200)) {
      account.candidates = [normalize(answer.body as unknown as Grants)];
    } else if (!refused(answer)) {
      for (const known of [...account.candidates]) addCandidate(account, applyChange(known, change));
    }
  }

  private async issueKey(account: AccountModel): Promise<void> {
    const scopes = certainScopes(account).filter(() => this.prng.chance(0.6));
    const answer = await this.send('POST', `${this.accountPath(account.clientId)}/api-keys`, { name: `k${account.keys.length + 1}`, scopes, ttlDays: 30 });
    if (acknowledged(answer, 201)) account.keys.push({ id: String(answer.body.id), key: String(answer.body.key), state: 'active' });
  }

  private async revokeKey(account: AccountModel): Promise<void> {
    const active = account.keys.filter((k) => k.state !== 'revoked');
    if (active.length === 0) return this.issueKey(account);
    const key = this.prng.pick(active);
    const answer = await this.send('DELETE', `/v1/api-keys/${key.id}`);
    if (acknowledged(answer, 204)) key.state = 'revoked';
    else if (!refused(answer)) key.state = 'unknown';
  }

  private async rotateApi(account: AccountModel): Promise<void> {
    await this.send('POST', `${this.accountPath(account.clientId)}/secret/rotate`, { graceHours: this.prng.pick([0, 1]) });
  }

  private async remove(account: AccountModel): Promise<void> {
    const answer = await this.send('DELETE', this.accountPath(account.clientId));
    if (acknowledged(answer, 204)) account.exists = 'no';
    else if (!refused(answer)) account.exists = 'unknown';
  }

  /** Makes a few accounts due and runs the `secret-rotation` job on some instance. */
  private async rotateJob(): Promise<void> {
    const due = [...this.accounts.values()].filter((a) => a.exists === 'yes').map((a) => a.clientId).filter(() => this.prng.chance(0.2)).slice(0, 3);
    await makeRotationDue(this.cluster.dataDir, this.realm, due);
    await this.send('POST', '/v1/jobs/secret-rotation/run', {});
  }

  /** An in-process CLI `apply --set --prune` (or `plan`) of the run's GitOps set, beside the servers. */
  private async cli(): Promise<void> {
    this.cliBusy = true;
    try {
      const next = new Map(this.gitopsDefs);
      const names = [...next.keys()];
      if (names.length < 2 || (names.length < 4 && this.prng.chance(0.5))) next.set(`${this.prefix}-g${(this.gitopsSerial += 1)}`, this.randomGrants());
      else if (this.prng.chance(0.3)) next.delete(this.prng.pick(names));
      else next.set(this.prng.pick(names), this.randomGrants());
      const plan = this.prng.chance(0.25);
      const code = await this.runCli(plan ? 'plan' : 'apply', plan ? this.gitopsDefs : next);
      if (!plan) this.recordApply(next, code);
    } finally {
      this.cliBusy = false;
    }
  }

  private recordApply(next: Map<string, Grants>, code: number | null): void {
    const names = new Set([...this.gitopsDefs.keys(), ...next.keys()]);
    for (const name of names) {
      const grants = next.get(name);
      const account = this.accounts.get(name) ?? { realm: this.realm, clientId: name, origin: 'gitops' as const, exists: 'unknown' as const, candidates: [], keys: [] };
      this.accounts.set(name, account);
      if (code === 0) {
        account.exists = grants ? 'yes' : 'no';
        account.candidates = grants ? [grants] : account.candidates;
      } else {
        if (account.exists === 'no' && grants) account.exists = 'unknown';
        if (account.exists === 'yes' && !grants) account.exists = 'unknown';
        if (grants) addCandidate(account, grants);
      }
    }
    this.gitopsDefs = next;
  }

  private async runCli(command: 'plan' | 'apply', defs: Map<string, Grants>): Promise<number | null> {
    const instance = await this.cluster.availableSoon(this.prng);
    const dir = join(this.cluster.dataDir, `gitops-${this.gitopsSerial}-${command}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, grants] of defs) {
      const spec = { description: 'chaos run', ...grants, secretRotation: { everyDays: 30, graceHours: 1 } };
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name, realm: this.realm, owner: 'chaos' }, spec }));
    }
    const args = command === 'plan' ? ['plan', dir, '--set', this.gitopsSet, '--prune'] : ['apply', dir, '--set', this.gitopsSet, '--prune', '--auto-approve', '--source', 'chaos'];
    const env = { ...instance.env, PORT: '0' };
    const child = spawn(process.execPath, [join(process.cwd(), 'dist/cli.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    clearTimeout(timer);
    // The CLI runs with the environment of an instance, fault points included: it may die at one.
    if (code === null) this.log(`  cli ${command} was killed (an armed fault point or the time limit)`);
    else if (code !== 0 && !(command === 'plan' && code === 2)) this.log(`  cli ${command} exited ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
    return code;
  }
}
