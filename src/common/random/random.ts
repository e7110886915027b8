import { randomBytes, randomFillSync } from 'node:crypto';
import { Injectable } from '@nestjs/common';

/** Fractions drawn from the CSPRNG at once: one call per 512 (access-log sampling asks on every verification). */
const POOL_SIZE = 512;

/**
 * The source of randomness: key material, nonces, jitter. Inject it instead of calling
 * `node:crypto` or `Math.random()` so that tests can make it predictable. Backed by the CSPRNG.
 */
@Injectable()
export class Random {
  bytes(size: number): Buffer {
    return randomBytes(size);
  }

  private readonly pool = new Uint32Array(POOL_SIZE);
  private next = POOL_SIZE;

  /** A number in [0, 1) with 32 random bits, for jitter and sampling. */
  fraction(): number {
    if (this.next === POOL_SIZE) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++] / 2 ** 32;
  }
}
