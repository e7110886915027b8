import { Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';

/**
 * The source of non-secret randomness (sampling decisions). Inject it instead of calling
 * Math.random so tests decide the outcome. Key material comes from the key generation strategy.
 */
@Injectable()
export class Randomness {
  /** A number in [0, 1). */
  fraction(): number {
    return randomInt(0, 2 ** 48 - 1) / 2 ** 48;
  }
}
