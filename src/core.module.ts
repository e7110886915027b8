import { Global, Module } from '@nestjs/common';
import { InstanceId } from './common/leases/instance-id.js';
import { LeaseStore } from './common/leases/lease.store.js';
import { Leases } from './common/leases/leases.js';
import { Clock } from './common/time/clock.js';
import { Randomness } from './common/random/randomness.js';

/** Cross-cutting providers every feature may inject: the clock, the randomness source, this instance's id and the shared leases. */
@Global()
@Module({ providers: [Clock, Randomness, InstanceId, LeaseStore, Leases], exports: [Clock, Randomness, InstanceId, LeaseStore, Leases] })
export class CoreModule {}
