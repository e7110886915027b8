import { type Cluster, type Prng, keycloakPid, sleep } from './cluster.js';

export type FaultKind = 'kill' | 'pause-instance' | 'pause-keycloak' | 'restart' | 'point';

export interface FaultOptions {
  /** How long an instance stays stopped: longer than its leases, so they expire meanwhile. */
  instancePauseMs: number;
  /** Longest Keycloak pause. */
  keycloakPauseMs: number;
  /** Named fault points compiled into dist/ (empty: faults at random moments only). */
  points: string[];
}

let pausedKeycloak: number | undefined;

/** Resumes Keycloak if this process paused it: on every way out, so no run leaves it stopped. */
export function resumeKeycloak(): void {
  if (pausedKeycloak === undefined) return;
  try {
    process.kill(pausedKeycloak, 'SIGCONT');
  } catch {
    // gone
  }
  pausedKeycloak = undefined;
}
process.once('exit', resumeKeycloak);

/**
 * Injects one fault into a running cluster: kill -9 of an instance, SIGSTOP/SIGCONT of an instance
 * past its lease, SIGSTOP/SIGCONT of Keycloak's Java process, a restart, or a restart with a named
 * fault point armed (`<point>=kill@1`: the instance dies the first time it gets there).
 */
export class FaultInjector {
  readonly counts = new Map<string, number>();

  constructor(
    readonly cluster: Cluster,
    readonly prng: Prng,
    readonly options: FaultOptions,
    readonly log: (line: string) => void,
  ) {}

  pickKind(forceKeycloak: boolean): FaultKind {
    if (forceKeycloak) return 'pause-keycloak';
    const kinds: FaultKind[] = ['kill', 'kill', 'pause-instance', 'pause-keycloak', 'restart'];
    if (this.options.points.length) kinds.push('point', 'point', 'point');
    return this.prng.pick(kinds);
  }

  async inject(kind: FaultKind): Promise<void> {
    const key = kind;
    if (kind === 'pause-keycloak') {
      const ms = 500 + this.prng.int(this.options.keycloakPauseMs);
      this.log(`fault: SIGSTOP Keycloak for ${ms} ms`);
      pausedKeycloak = keycloakPid();
      process.kill(pausedKeycloak, 'SIGSTOP');
      await sleep(ms);
      resumeKeycloak();
    } else {
      const instance = await this.cluster.availableSoon(this.prng);
      await this.cluster.exclusive(instance, async () => {
        if (kind === 'kill') {
          this.log(`fault: kill -9 ${instance.name}`);
          await instance.kill('SIGKILL');
          await sleep(this.prng.int(1_500));
          await this.cluster.startWithRetry(instance, { KEYSMITH_FAULT_POINTS: '' });
        } else if (kind === 'pause-instance') {
          this.log(`fault: SIGSTOP ${instance.name} for ${this.options.instancePauseMs} ms`);
          instance.stop();
          await sleep(this.options.instancePauseMs);
          instance.cont();
        } else if (kind === 'restart') {
          this.log(`fault: restart ${instance.name}`);
          await this.cluster.startWithRetry(instance, { KEYSMITH_FAULT_POINTS: '' }, 'SIGTERM');
        } else {
          const point = this.prng.pick(this.options.points);
          this.log(`fault: ${instance.name} armed with ${point}=kill@1`);
          this.counts.set(`point ${point}`, (this.counts.get(`point ${point}`) ?? 0) + 1);
          await this.cluster.startWithRetry(instance, { KEYSMITH_FAULT_POINTS: `${point}=kill@1` });
        }
      });
    }
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}
