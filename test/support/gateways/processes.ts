import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on loopback, found by binding port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a binary is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Fails with the fix when nginx or Caddy is missing; `bash scripts/gateways.sh` installs them
 * (scripts/test.sh runs it).
 */
export function requireGateway(binary: 'nginx' | 'caddy'): void {
  if (!hasCommand(binary)) throw new Error(`${binary} is not installed: run bash scripts/gateways.sh (as root; scripts/test.sh does it)`);
}

/** The uid and gid of `nobody`, when this process is root: gateways then run as nobody. */
function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** A temp folder the gateway process may write to (owned by nobody when we run as root). */
export function gatewayDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `keysmith-${name}-`));
  const ids = unprivilegedIds();
  if (ids) chownSync(dir, ids.uid, ids.gid);
  chmodSync(dir, 0o755);
  return dir;
}

/** Hands a file written by this process to the gateway's user. */
export function giveToGateway(file: string): void {
  const ids = unprivilegedIds();
  if (ids) chownSync(file, ids.uid, ids.gid);
}

export interface GatewayProcess {
  name: string;
  port: number;
  dir: string;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, name: string, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => socket.end(() => resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within 10 s:\n${output()}`);
}

/**
 * Starts a gateway in the foreground as an unprivileged process (setpriv to nobody when we are
 * root, no system service manager), waits for its port and returns how to stop it by its pid.
 */
export async function startGateway(name: string, port: number, dir: string, command: string[], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const ids = unprivilegedIds();
  const argv = ids ? ['setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--', ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const output = () => log;
  await waitForPort(port, child, name, output);
  return {
    name,
    port,
    dir,
    output,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
