import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKeycloakJava, keycloakJavaPid } from './keycloak-process.js';

// scripts/keycloak.sh stop and status against a stand-in Keycloak living in a temporary
// KEYCLOAK_CACHE_DIR: the script only ever acts on Java processes of that directory's Keycloak,
// so the real local Keycloak (another directory) is out of its reach.
describe('scripts/keycloak.sh with the Java process behind a kc.sh launcher', () => {
  let cacheDir: string;
  let launcher: ChildProcess;

  const script = (command: string) => {
    if (!cacheDir.startsWith(tmpdir())) throw new Error('refusing to run outside a temporary KEYCLOAK_CACHE_DIR');
    try {
      execFileSync('bash', ['scripts/keycloak.sh', command], { env: { ...process.env, KEYCLOAK_CACHE_DIR: cacheDir, KEYCLOAK_MANAGEMENT_PORT: '1' }, stdio: 'pipe' });
      return 0;
    } catch (error) {
      return (error as { status: number }).status;
    }
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'keysmith-kc-script-'));
    const home = join(cacheDir, 'keycloak-26.7.3');
    mkdirSync(join(home, 'bin'), { recursive: true });
    const fakeJava = `"${process.execPath}" -e "setInterval(() => {}, 1000)" -- -Dkc.home.dir=${home}/bin/.. io.quarkus.bootstrap.runner.QuarkusEntryPoint start-dev`;
    launcher = spawn('sh', ['-c', `${fakeJava} & wait`], { stdio: 'ignore', detached: true });
    writeFileSync(join(cacheDir, 'keycloak.pid'), `${launcher.pid}\n`);
    for (let i = 0; i < 200; i += 1) {
      try {
        keycloakJavaPid(cacheDir);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  });

  afterEach(() => {
    if (launcher.pid && alive(launcher.pid)) process.kill(-launcher.pid, 'SIGKILL');
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('stop ends the Java process found through the launcher, and the launcher, and forgets the pid', async () => {
    const java = keycloakJavaPid(cacheDir);
    expect(isKeycloakJava(java)).toBe(true);
    expect(script('stop')).toBe(0);
    for (let i = 0; i < 100 && (alive(java) || alive(launcher.pid!)); i += 1) await new Promise((r) => setTimeout(r, 25));
    expect(alive(java)).toBe(false);
    expect(existsSync(join(cacheDir, 'keycloak.pid'))).toBe(false);
  });

  it('status is not running for a pid file naming a process that is not this Keycloak', () => {
    writeFileSync(join(cacheDir, 'keycloak.pid'), `${process.pid}\n`);
    expect(script('status')).not.toBe(0);
    expect(script('stop')).toBe(0);
    expect(alive(process.pid)).toBe(true);
    expect(alive(launcher.pid!)).toBe(true);
  });
});
