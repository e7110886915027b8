import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keycloakEnv } from '../support/keycloak-env.js';
import { keycloakJavaPid, prepareDataDir, startInstance, type KeysmithInstance } from '../support/instances.js';

/** A small seeded PRNG (mulberry32): the same seed makes the same choices. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every named fault point compiled into dist/: the names passed to `faultPoint('...')` and the
 * entries of exported `*_FAULT_POINTS` lists.
 */
export function namedFaultPoints(dist = join(process.cwd(), 'dist')): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) {
        const text = readFileSync(path, 'utf8');
        for (const match of text.matchAll(/faultPoint\(\s*['"]([a-z0-9.-]+)['"]/g)) names.add(match[1]);
        for (const list of text.matchAll(/export const \w*FAULT_POINTS\w*\s*=\s*(?:Object\.freeze\()?\[([^\]]*)\]/g)) {
          for (const name of list[1].matchAll(/['"]([a-z0-9.-]+)['"]/g)) names.add(name[1]);
        }
      }
    }
  };
  walk(dist);
  return [...names].sort();
}

/**
 * The Keysmith processes of one chaos run on one database, and the Keycloak they use. Operations go
 * to an instance that is up; a watcher restarts an instance that died (a kill or a fault point).
 */
export class Cluster {
  readonly dataDir: string;
  instances: KeysmithInstance[] = [];
  private busy = new Set<KeysmithInstance>();
  private watching = false;
  private watcher?: Promise<void>;
  restarts = 0;

  constructor(
    readonly env: Record<string, string>,
    readonly log: (line: string) => void,
  ) {
    // Not removed with the instances: the campaign keeps it (database, logs) when a check fails.
    this.dataDir = prepareDataDir(mkdtempSync(join(tmpdir(), 'keysmith-chaos-')));
  }

  removeData(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async start(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      this.instances.push(await startInstance({ name: `chaos-${String.fromCharCode(97 + i)}`, dataDir: this.dataDir, env: this.env }));
    }
    this.watching = true;
    this.watcher = this.watch();
  }

  /** An instance that is running and not stopped, or undefined. */
  available(prng: Prng): KeysmithInstance | undefined {
    const up = this.instances.filter((i) => i.running && !i.isStopped && !this.busy.has(i));
    return up.length ? prng.pick(up) : undefined;
  }

  /** An available instance, waiting for one up to `waitMs`; then an error with each instance's state. */
  async availableSoon(prng: Prng, waitMs = 180_000): Promise<KeysmithInstance> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const instance = this.available(prng);
      if (instance) return instance;
      if (Date.now() > deadline) {
        const states = this.instances.map((i) => `${i.name}: ${i.running ? 'running' : 'down'}${i.isStopped ? ', stopped' : ''}${this.busy.has(i) ? ', held by a fault or restart' : ''}`);
        throw new Error(`no instance available for ${waitMs / 1000} s (${states.join('; ')})`);
      }
      await sleep(200);
    }
  }

  /** Holds an instance away from the watcher and from new operations while `body` restarts or pauses it. */
  async exclusive<T>(instance: KeysmithInstance, body: () => Promise<T>): Promise<T> {
    this.busy.add(instance);
    try {
      return await body();
    } finally {
      this.busy.delete(instance);
    }
  }

  /** Starts again, without fault points, every instance that died. */
  private async watch(): Promise<void> {
    while (this.watching) {
      for (const instance of this.instances) {
        if (!instance.running && !this.busy.has(instance)) {
          await this.exclusive(instance, async () => {
            this.log(`  ${instance.name} is down: restarting`);
            this.restarts += 1;
            await this.startWithRetry(instance, { KEYSMITH_FAULT_POINTS: '' });
          });
        }
      }
      await sleep(300);
    }
  }

  async startWithRetry(instance: KeysmithInstance, env: Record<string, string>, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await instance.restart(env, attempt === 1 ? signal : 'SIGKILL');
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        this.log(`  ${instance.name} did not start (${(error as Error).message.split(';')[0]}); again`);
        await sleep(1_000);
      }
    }
  }

  async stopWatching(): Promise<void> {
    this.watching = false;
    await this.watcher;
  }
}

/** Keycloak's Java process, from the cache folder of the seed env file in use. */
export function keycloakPid(): number {
  keycloakEnv();
  return keycloakJavaPid();
}
