import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../errors/domain-error.js';
import { ErrorCode } from '../errors/error-code.js';
import { sortableId } from '../ids/ids.js';
import { Clock } from '../time/clock.js';
import { InstanceId } from './instance-id.js';
import { LeaseStore } from './lease.store.js';

/**
 * What a body running under a lease holds. Keycloak has no conditional writes, so a body calls
 * `check()` before each external step: it renews the lease and throws `LeaseLostError` when the
 * lease expired (a pause, a stall) or changed hands, so a process that lost it writes nothing more.
 * A check within a quarter of the lease's length of its last confirmation (acquisition, renewal or
 * heartbeat, timed from before the statement) needs no statement: nobody can take a lease over
 * before it expires, and at least three quarters of it are left (a clock skew between instances
 * below that is tolerated). A pause of the process moves the clock, so the next check renews.
 */
export interface Fence {
  readonly name: string;
  readonly token: string;
  /** Renews the lease, or throws LeaseLostError naming `step` when it is no longer held. */
  check(step?: string): Promise<void>;
  /**
   * Gives the lease up before the body ends, once what is left of it needs no lock (an audit
   * record, a change notice), so that the release is made beside that work instead of after it.
   * `check` throws afterwards; the lease is released once whichever way the body ends.
   */
  release(): Promise<void>;
}

export class LeaseLostError extends DomainError {
  constructor(name: string, step?: string) {
    super(ErrorCode.LeaseLost, `The lock on ${name} expired or was taken over${step ? ` before ${step}` : ''}; the change stopped. Retry it.`);
    this.name = 'LeaseLostError';
  }
}

export interface LeaseOptions {
  ttlMs: number;
  /** How long to wait for a lease someone else holds; 0 gives up at once. */
  waitMs: number;
  /** The error thrown when the lease stays busy past `waitMs`. */
  busy: () => Error;
}

const POLL_MS = [20, 50, 100, 200, 250];

/**
 * Runs bodies under named leases shared by every instance on the database (see LeaseStore). In
 * one process, bodies for the same name queue in memory first, so only one of them polls the table.
 * While a body runs, a heartbeat renews the lease every third of its length.
 */
@Injectable()
export class Leases {
  private readonly logger = new Logger(Leases.name);
  private readonly local = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: LeaseStore,
    private readonly clock: Clock,
    private readonly instance: InstanceId,
  ) {}

  /** Waits (up to `waitMs`) for the lease, runs `body` under it and releases it. */
  run<T>(name: string, options: LeaseOptions, body: (fence: Fence) => Promise<T>): Promise<T> {
    return this.queued(name, async () => {
      const { token, at } = await this.acquireWaiting(name, options);
      return this.hold(name, token, options.ttlMs, at, body);
    });
  }

  /** Runs `body` only if the lease is free right now (no live holder here or elsewhere); false otherwise. */
  async tryRun(name: string, ttlMs: number, body: (fence: Fence) => Promise<void>): Promise<boolean> {
    if (this.local.has(name)) return false;
    return this.queued(name, async () => {
      const token = sortableId('lse', this.clock.now());
      const at = this.clock.nowMs();
      const { acquired } = await this.store.acquire(name, this.instance.value, token, ttlMs, { reportTakeover: false });
      if (!acquired) return false;
      await this.hold(name, token, ttlMs, at, body);
      return true;
    });
  }

  /** The lease's token, and the time taken just before the statement that acquired it. */
  private async acquireWaiting(name: string, options: LeaseOptions): Promise<{ token: string; at: number }> {
    const token = sortableId('lse', this.clock.now());
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const at = this.clock.nowMs();
      const { acquired } = await this.store.acquire(name, this.instance.value, token, options.ttlMs, { reportTakeover: false });
      if (acquired) return { token, at };
      if (waited >= options.waitMs) throw options.busy();
      const pause = Math.min(POLL_MS[Math.min(attempt, POLL_MS.length - 1)], Math.max(1, options.waitMs - waited));
      await new Promise((resolve) => setTimeout(resolve, pause));
      waited += pause;
    }
  }

  private async hold<T>(name: string, token: string, ttlMs: number, acquiredAt: number, body: (fence: Fence) => Promise<T>): Promise<T> {
    let lost = false;
    let released: Promise<void> | null = null;
    let confirmedAt = acquiredAt;
    const renew = async (): Promise<boolean> => {
      const at = this.clock.nowMs();
      const held = await this.store.renew(name, token, ttlMs);
      if (held) confirmedAt = Math.max(confirmedAt, at);
      else lost = true;
      return held;
    };
    const fence: Fence = {
      name,
      token,
      check: async (step) => {
        const since = this.clock.nowMs() - confirmedAt;
        if (!lost && !(since >= 0 && since < ttlMs / 4)) await renew();
        if (lost) throw new LeaseLostError(name, step);
      },
      release: () => {
        if (!released) {
          lost = true;
          clearInterval(heartbeat);
          released = this.store.release(name, token).catch((error: unknown) => this.logger.warn(`lease ${name}: release failed: ${(error as Error).message}`));
        }
        return released;
      },
    };
    const heartbeat = setInterval(() => {
      if (lost) return;
      renew().catch((error: unknown) => this.logger.warn(`lease ${name}: heartbeat failed: ${(error as Error).message}`));
    }, Math.max(250, Math.floor(ttlMs / 3)));
    heartbeat.unref();
    try {
      return await body(fence);
    } finally {
      await fence.release();
    }
  }

  /** Serialises bodies for one name within this process. */
  private async queued<T>(name: string, body: () => Promise<T>): Promise<T> {
    const previous = this.local.get(name) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(body);
    this.local.set(name, run);
    try {
      return await run;
    } finally {
      if (this.local.get(name) === run) this.local.delete(name);
    }
  }
}
