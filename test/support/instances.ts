import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { accountsIn, removeClientsOf } from './keycloak-cleanup.js';
import { keysmithEnv } from './keysmith-env.js';
import { keycloakJavaPid as javaPidIn } from './keycloak-process.js';

/**
 * Keysmith as a real child process (`node dist/main.js`), for kill -9, SIGSTOP and restart tests and
 * for `npm run chaos`. Several instances may share one data directory, and so one SQLite file.
 *
 *   ensureBuilt();                                   // `npm run build` when dist/ is older than src/
 *   const a = await startInstance({ name: 'a', env: { KEYSMITH_FAULT_POINTS: 'rotate.intent-recorded=kill' } });
 *   const b = await startInstance({ name: 'b', dataDir: a.dataDir });
 *   await fetch(`${a.url}/healthz`);
 *   await a.kill();   a.stop(); a.cont();   await a.restart({ KEYSMITH_FAULT_POINTS: '' });
 *   await closeAllInstances();                       // in afterAll; also done on process exit
 *
 * The Keycloak it talks to is the one described by `KEYSMITH_SEED_ENV_FILE` (default
 * `.cache/keycloak/keysmith.env`), like every e2e suite. Each instance's stdout and stderr go to
 * `<dataDir>/<name>.log` (appended across restarts).
 */
export interface InstanceOptions {
  /** Names the instance in its log file and in `KEYSMITH_INSTANCE_NAME`. */
  name: string;
  /** Data directory (SQLite file, master key). A fresh temporary one when omitted. */
  dataDir?: string;
  /** Extra environment, after the Keycloak and data variables (fault points, job settings, ...). */
  env?: Record<string, string>;
  /** Port to listen on; a free loopback port when omitted. Kept across restarts. */
  port?: number;
  /** How long to wait for `/healthz` (default 60 s). */
  startTimeoutMs?: number;
}

const root = process.cwd();
const live = new Set<KeysmithInstance>();
const ownedDirs = new Set<string>();

/**
 * A data directory that several processes can share: the master key file is written once here,
 * before any process starts, so two first starts never race to create it.
 */
export function prepareDataDir(dataDir?: string): string {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'keysmith-instance-'));
  if (!dataDir) ownedDirs.add(dir);
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'master.key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return dir;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` unless dist/ is newer than every file under src/ and migrations/. */
export function ensureBuilt(): void {
  const main = join(root, 'dist/main.js');
  if (existsSync(main) && statSync(main).mtimeMs > Math.max(newestMtime(join(root, 'src')), newestMtime(join(root, 'migrations')))) return;
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KeysmithInstance {
  readonly name: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The environment the process gets (without the parent's). The CLI can reuse it on the same database. */
  env: Record<string, string>;
  private child?: ChildProcess;
  private exit?: Promise<void>;
  private stopped = false;

  constructor(
    options: InstanceOptions,
    readonly port: number,
  ) {
    this.name = options.name;
    this.dataDir = prepareDataDir(options.dataDir);
    this.logFile = join(this.dataDir, `${options.name}.log`);
    this.env = keysmithEnv(this.dataDir, { PORT: String(port), HOST: '127.0.0.1', KEYSMITH_INSTANCE_NAME: options.name, ...options.env });
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
  }

  private readonly startTimeoutMs: number;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the process is running (a stopped one counts as running). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns `node dist/main.js` and waits until `/healthz` answers 200. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`instance ${this.name} is already running`);
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [join(root, 'dist/main.js')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.stopped = false;
    this.exit = new Promise((done) => child.once('exit', () => done()));
    live.add(this);
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`instance ${this.name} exited during start-up (${child.exitCode ?? child.signalCode}); see ${this.logFile}`);
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await this.kill();
    throw new Error(`instance ${this.name} did not answer /healthz within ${this.startTimeoutMs} ms; see ${this.logFile}`);
  }

  /** Sends a signal (SIGKILL by default: a crash) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    // A stopped process handles nothing but SIGKILL until it is continued.
    if (this.stopped && signal !== 'SIGKILL') this.cont();
    await this.exit;
    this.stopped = false;
    live.delete(this);
  }

  /** SIGSTOP: the process keeps its sockets and its lease rows but does nothing at all. */
  stop(): void {
    if (!this.running) throw new Error(`instance ${this.name} is not running`);
    this.child!.kill('SIGSTOP');
    this.stopped = true;
  }

  /** SIGCONT after `stop()`. */
  cont(): void {
    if (!this.running) return;
    this.child!.kill('SIGCONT');
    this.stopped = false;
  }

  /** How the last process ended: its exit code, or the signal that ended it; undefined while it runs. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    if (!this.child || this.running) return undefined;
    return { code: this.child.exitCode, signal: this.child.signalCode };
  }

  get isStopped(): boolean {
    return this.stopped && this.running;
  }

  /** Kills the process (SIGKILL unless told otherwise) and starts it again on the same port and data. */
  async restart(env: Record<string, string> = {}, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    this.env = { ...this.env, ...env };
    await this.start();
  }

  /** The instance's captured stdout and stderr so far. */
  output(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

/** Starts one Keysmith child process; see `KeysmithInstance`. */
export async function startInstance(options: InstanceOptions): Promise<KeysmithInstance> {
  const instance = new KeysmithInstance(options, options.port ?? (await freePort()));
  await instance.start();
  return instance;
}

/** Kills every instance still running and removes the data directories this module created. */
export async function closeAllInstances(): Promise<void> {
  const dirs = new Set([...ownedDirs, ...[...live].map((instance) => instance.dataDir)]);
  await Promise.all([...live].map((instance) => instance.kill()));
  // The Keycloak clients of the accounts the instances made, so repeated runs do not grow the realms.
  await removeClientsOf((await Promise.all([...dirs].map(accountsIn))).flat());
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  ownedDirs.clear();
}

// A test run that ends or crashes never leaves a Keysmith process behind.
process.once('exit', () => {
  for (const instance of live) if (instance.pid) process.kill(instance.pid, 'SIGKILL');
});

/** The cache directory of the Keycloak the suites use: the folder of its seed env file. */
export function keycloakCacheDir(): string {
  return resolve(dirname(process.env.KEYSMITH_SEED_ENV_FILE ?? join(root, '.cache/keycloak/keysmith.env')));
}

/**
 * The process id of Keycloak's Java process, started by `scripts/keycloak.sh` with the given cache
 * directory (default: the folder of the seed env file in use). The one worth pausing: stopping the
 * kc.sh shell would leave Keycloak serving. See `keycloak-process.ts`.
 */
export function keycloakJavaPid(cacheDir = keycloakCacheDir()): number {
  return javaPidIn(resolve(cacheDir));
}
