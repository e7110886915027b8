import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Redis for a suite, through scripts/redis.sh: the one scripts/test.sh started for the run
 * (`KEYSMITH_TEST_REDIS_DIR`), or one of the suite's own. `stop()` and `start()` take it down and
 * bring it back on the same port (the fallback tests); `close()` leaves the run's Redis running.
 */
export class TestRedis {
  private constructor(
    readonly dir: string,
    private readonly owned: boolean,
  ) {}

  static start(): TestRedis {
    const shared = process.env.KEYSMITH_TEST_REDIS_DIR;
    const redis = new TestRedis(shared ?? mkdtempSync(join(tmpdir(), 'keysmith-redis-')), !shared);
    redis.start();
    return redis;
  }

  get url(): string {
    const line = readFileSync(join(this.dir, 'redis.env'), 'utf8').trim();
    return line.slice('KEYSMITH_REDIS_URL='.length);
  }

  start(): void {
    this.script('start');
  }

  stop(): void {
    this.script('stop');
  }

  close(): void {
    if (!this.owned) {
      this.start();
      return;
    }
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private script(command: string): void {
    execFileSync('bash', ['scripts/redis.sh', command], { env: { ...process.env, REDIS_DIR: this.dir }, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
