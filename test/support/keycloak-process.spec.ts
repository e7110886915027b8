import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKeycloakJava, keycloakCacheDir, keycloakJavaPid } from './keycloak-process.js';

// A stand-in for Keycloak's Java process: a sleeping node process whose command line carries what
// kc.sh gives Java. Nothing here signals the real Keycloak.
const FAKE_JAVA = `"${process.execPath}" -e "setInterval(() => {}, 1000)" -- -Dkc.home.dir=/opt/keycloak/bin/.. io.quarkus.bootstrap.runner.QuarkusEntryPoint start-dev`;

function startFake(command: string): ChildProcess {
  return spawn('sh', ['-c', command], { stdio: 'ignore', detached: true });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 25));
  if (!condition()) throw new Error('the fake process did not start');
}

describe('keycloakJavaPid', () => {
  let dir: string;
  const started: ChildProcess[] = [];
  const record = (pid: number) => writeFileSync(join(dir, 'keycloak.pid'), `${pid}\n`);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-kc-'));
  });
  afterEach(() => {
    for (const child of started.splice(0)) if (child.pid) process.kill(-child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes a recorded Java process as it is (the first start after unpacking: kc.sh exec-ed Java)', async () => {
    const java = startFake(`exec ${FAKE_JAVA}`);
    started.push(java);
    await until(() => isKeycloakJava(java.pid!));
    record(java.pid!);
    expect(keycloakJavaPid(dir)).toBe(java.pid);
  });

  it('finds the Java child when the recorded process is the kc.sh shell (every later start)', async () => {
    const shell = startFake(`${FAKE_JAVA} & wait`);
    started.push(shell);
    record(shell.pid!);
    let found: number | undefined;
    await until(() => {
      try {
        found = keycloakJavaPid(dir);
        return true;
      } catch {
        return false;
      }
    });
    expect(found).not.toBe(shell.pid);
    expect(isKeycloakJava(found!)).toBe(true);
    expect(isKeycloakJava(shell.pid!)).toBe(false);
  });

  it('refuses a process that is neither Keycloak nor its launcher, and one that is gone', () => {
    record(process.pid);
    expect(() => keycloakJavaPid(dir)).toThrow(/is not Keycloak's Java process/);
    record(2 ** 22 + 1);
    expect(() => keycloakJavaPid(dir)).toThrow(/is not running/);
  });

  it('reads the pid file from KEYCLOAK_CACHE_DIR, as scripts/keycloak.sh does', () => {
    expect(keycloakCacheDir({ KEYCLOAK_CACHE_DIR: '/srv/kc' }, '/repo')).toBe('/srv/kc');
    expect(keycloakCacheDir({ KEYCLOAK_CACHE_DIR: 'kc' }, '/repo')).toBe('/repo/kc');
    expect(keycloakCacheDir({}, '/repo')).toBe('/repo/.cache/keycloak');
  });
});
