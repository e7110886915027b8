import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestRedis } from './support/redis.js';
import { closeAllInstances, ensureBuilt, freePort, KeysmithInstance, keycloakJavaPid, startInstance } from './support/instances.js';

// The child-process harness itself: real `node dist/main.js` processes on one database.
describe('Keysmith instances as child processes', () => {
  let a: KeysmithInstance;

  beforeAll(async () => {
    ensureBuilt();
    a = await startInstance({ name: 'a' });
  }, 300_000);

  afterAll(async () => {
    await closeAllInstances();
  });

  it('answers /healthz and /readyz, and captures its output to a file', async () => {
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    expect(a.output()).toContain('Keysmith listening on');
  });

  it('a second instance shares the database; kill -9 ends one and the other keeps serving', async () => {
    const b = await startInstance({ name: 'b', dataDir: a.dataDir });
    expect(b.port).not.toBe(a.port);
    await b.kill();
    expect(b.running).toBe(false);
    await expect(fetch(`${b.url}/healthz`)).rejects.toThrow();
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
  });

  it('an instance given another master key than the database was written with refuses to start, saying why; the others go on', async () => {
    const other = new KeysmithInstance({ name: 'other-key', dataDir: a.dataDir, env: { KEYSMITH_MASTER_KEY: 'cd'.repeat(32) } }, await freePort());
    await expect(other.start()).rejects.toThrow(/exited during start-up/);
    expect(other.exitStatus?.code).toBe(1);
    expect(other.output()).toContain('is not the one this database was written with');
    expect(other.output()).not.toContain('cd'.repeat(32));
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
  });

  it('the CLI with another master key says why and exits, though Redis and the database were connected', async () => {
    const redis = TestRedis.start();
    try {
      const env = { ...a.env, PATH: process.env.PATH ?? '', KEYSMITH_MASTER_KEY: 'cd'.repeat(32), KEYSMITH_REDIS_URL: redis.url };
      const run = await new Promise<{ code: number; err: string }>((resolve) => {
        execFile(process.execPath, [join(process.cwd(), 'dist/cli.js'), 'export', '--realm', 'platform'], { env }, (error, _out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, err }));
      });
      expect(run.code).toBe(1);
      expect(run.err).toContain('is not the one this database was written with');
    } finally {
      redis.close();
    }
  });

  it('a stopped instance answers nothing until it is continued', async () => {
    a.stop();
    expect(a.isStopped).toBe(true);
    await expect(fetch(`${a.url}/healthz`, { signal: AbortSignal.timeout(500) })).rejects.toThrow();
    a.cont();
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
  });

  it('restarts on the same port and data directory, with new environment', async () => {
    const before = a.pid;
    await a.restart({ LOG_LEVEL: 'warn' });
    expect(a.pid).not.toBe(before);
    expect(a.env.LOG_LEVEL).toBe('warn');
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
  });

  it("finds Keycloak's Java process, not the kc.sh shell", () => {
    const pid = keycloakJavaPid();
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('java');
  });
});
