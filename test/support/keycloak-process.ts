import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The class Keycloak's launcher (bin/kc.sh) runs: how its Java process is told from the shell. */
const KEYCLOAK_MAIN = 'io.quarkus.bootstrap.runner.QuarkusEntryPoint';

/** Where scripts/keycloak.sh keeps its state: KEYCLOAK_CACHE_DIR, as the script reads it. */
export function keycloakCacheDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.KEYCLOAK_CACHE_DIR || '.cache/keycloak');
}

function commandLine(pid: number, proc: string): string[] | undefined {
  try {
    return readFileSync(join(proc, String(pid), 'cmdline'), 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Whether a process runs Keycloak's server (the Java process, not the kc.sh shell around it). */
export function isKeycloakJava(pid: number, proc = '/proc'): boolean {
  const args = commandLine(pid, proc);
  return !!args && args.includes(KEYCLOAK_MAIN) && args.some((arg) => arg.startsWith('-Dkc.home.dir='));
}

function childrenOf(pid: number, proc: string): number[] {
  const children: number[] = [];
  for (const entry of readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(join(proc, entry, 'stat'), 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/**
 * The Java process of the Keycloak that scripts/keycloak.sh started. The script records that
 * process's id; an id recorded by an older script may be the kc.sh shell, whose child is the
 * server, so a shell is looked through. Anything else is an error rather than a wrong process.
 */
export function keycloakJavaPid(cacheDir = keycloakCacheDir(), proc = '/proc'): number {
  const file = join(cacheDir, 'keycloak.pid');
  const recorded = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(recorded) || recorded <= 0) throw new Error(`${file} holds no process id`);
  if (isKeycloakJava(recorded, proc)) return recorded;
  if (!commandLine(recorded, proc)) throw new Error(`process ${recorded} from ${file} is not running: start Keycloak with scripts/keycloak.sh start`);
  const java = childrenOf(recorded, proc).filter((child) => isKeycloakJava(child, proc));
  if (java.length !== 1) throw new Error(`process ${recorded} from ${file} is not Keycloak's Java process and has ${java.length} such children`);
  return java[0];
}

/**
 * Pauses and resumes the local Keycloak's Java process (SIGSTOP / SIGCONT). A paused server
 * accepts no work, exactly like one that hangs or is gone, and comes back in milliseconds
 * instead of a full restart.
 */
export class KeycloakProcess {
  constructor(private readonly cacheDir = keycloakCacheDir()) {}

  get pid(): number {
    return keycloakJavaPid(this.cacheDir);
  }

  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  /**
   * Runs `body` with Keycloak paused, resuming it whatever happens. A signal is delivered
   * asynchronously, thread by thread: `body` starts once every thread of the process is stopped,
   * so a request it makes cannot slip through a thread still running (a busy machine shows this).
   */
  async whilePaused<T>(body: () => Promise<T>): Promise<T> {
    const pid = this.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      await allThreadsStopped(pid);
      return await body();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }
}

/** Waits (up to 10 s) until every thread of `pid` is in the stopped state (`T` in /proc/PID/task/TID/stat). */
async function allThreadsStopped(pid: number, proc = '/proc'): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const states = readdirSync(join(proc, String(pid), 'task')).map((tid) => {
      try {
        const stat = readFileSync(join(proc, String(pid), 'task', tid, 'stat'), 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      } catch {
        return 'T'; // the thread ended
      }
    });
    if (states.every((state) => state === 'T' || state === 't')) return;
    if (Date.now() > deadline) throw new Error(`Keycloak's process ${pid} did not stop: thread states ${[...new Set(states)].join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
