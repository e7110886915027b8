import { Global, Module } from '@nestjs/common';
import { InstanceId } from './common/leases/instance-id.js';
import { LeaseStore } from './common/leases/lease.store.js';
import { Leases } from './common/leases/leases.js';
import { MetricsRegistry } from './common/metrics/metrics.registry.js';
import { Random } from './common/random/random.js';
import { Clock } from './common/time/clock.js';

/**
 * Cross-cutting providers every feature may inject: the clock, randomness, the Prometheus
 * registry, this instance's id and the shared leases.
 */
const SHARED = [Clock, Random, MetricsRegistry, InstanceId, LeaseStore, Leases];

@Global()
@Module({ providers: SHARED, exports: SHARED })
export class CoreModule {}
