import { Global, Module } from '@nestjs/common';
import { RedisConnection } from './redis-connection.js';
import { RedisWindowCounter, SharedWindowCounter } from './redis-window-counter.js';

/** Redis when KEYSMITH_REDIS_URL is set: shared limit counters and the change feed's wake-ups. */
@Global()
@Module({
  providers: [RedisConnection, RedisWindowCounter, { provide: SharedWindowCounter, useExisting: RedisWindowCounter }],
  exports: [RedisConnection, SharedWindowCounter],
})
export class RedisModule {}
