import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Clock } from '../time/clock.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { RedisConnection } from './redis-connection.js';

/** One count in a fixed window: how many events so far, and when the window ends. */
export interface WindowCount {
  count: number;
  resetInMs: number;
}

/**
 * Counts in fixed windows shared by every replica. The first event of a window starts it.
 * `increment` resolves null when the count could not be made (no Redis configured, Redis
 * unreachable or slow, breaker open): the caller applies its fallback.
 */
export abstract class SharedWindowCounter {
  abstract readonly enabled: boolean;
  abstract increment(key: string, windowMs: number): Promise<WindowCount | null>;
}

/** INCR, and PEXPIRE on the first event of a window, in one atomic script (also repairs a key left without expiry). */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

type HitCommand = (key: string, windowMs: number) => Promise<[number, number]>;

/** SharedWindowCounter on Redis (one round trip per event, EVALSHA), behind a circuit breaker. */
@Injectable()
export class RedisWindowCounter extends SharedWindowCounter {
  private readonly breaker: CircuitBreaker;
  private readonly hit: HitCommand | null;

  constructor(connection: RedisConnection, clock: Clock) {
    super();
    this.breaker = new CircuitBreaker(() => clock.nowMs());
    this.hit = connection.client ? defineHit(connection.client) : null;
  }

  get enabled(): boolean {
    return this.hit !== null;
  }

  async increment(key: string, windowMs: number): Promise<WindowCount | null> {
    if (!this.hit || !this.breaker.allows()) return null;
    try {
      const [count, ttl] = await this.hit(key, windowMs);
      this.breaker.success();
      return { count, resetInMs: ttl };
    } catch {
      this.breaker.failure();
      return null;
    }
  }
}

function defineHit(client: Redis): HitCommand {
  client.defineCommand('keysmithWindowHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  const command = (client as unknown as { keysmithWindowHit: HitCommand }).keysmithWindowHit.bind(client);
  return command;
}
