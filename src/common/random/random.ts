import { randomBytes, randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';

// randomInt takes ranges below 2^48.
const FRACTION_RANGE = 2 ** 48 - 1;

/**
 * The source of randomness: key material, nonces, jitter. Inject it instead of calling
 * `node:crypto` or `Math.random()` so that tests can make it predictable. Backed by the CSPRNG.
 */
@Injectable()
export class Random {
  bytes(size: number): Buffer {
    return randomBytes(size);
  }

  /** A number in [0, 1), for jitter and sampling. */
  fraction(): number {
    return randomInt(FRACTION_RANGE) / FRACTION_RANGE;
  }
}
