import { Injectable } from '@nestjs/common';
import type { AccountLeasePort } from './rotation.ports.js';

/**
 * Serializes work on one account inside this process. Bound to ACCOUNT_LEASE until the database
 * lease shared across instances takes its place; its fence never fails.
 */
@Injectable()
export class InProcessAccountLease implements AccountLeasePort {
  private readonly tails = new Map<string, Promise<unknown>>();

  async withAccount<T>(realm: string, clientId: string, body: (fence: () => Promise<void>) => Promise<T>): Promise<T> {
    const key = `${realm}\u0000${clientId}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => body(async () => undefined));
    this.tails.set(key, run);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === run) this.tails.delete(key);
    }
  }
}
