import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Pauses and resumes the local Keycloak process (SIGSTOP / SIGCONT) started by scripts/keycloak.sh.
 * A paused server accepts no work, exactly like one that hangs or is gone, and comes back in
 * milliseconds instead of a full restart.
 */
export class KeycloakProcess {
  private readonly pid = Number(readFileSync(join(process.cwd(), '.cache/keycloak/keycloak.pid'), 'utf8').trim());

  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  /** Runs `body` with Keycloak paused, resuming it whatever happens. */
  async whilePaused<T>(body: () => Promise<T>): Promise<T> {
    this.pause();
    try {
      return await body();
    } finally {
      this.resume();
    }
  }
}
