import { Global, Module } from '@nestjs/common';
import { MetricsRegistry } from './common/metrics/metrics.registry.js';
import { Random } from './common/random/random.js';
import { Clock } from './common/time/clock.js';

/** Cross-cutting providers every feature may inject: the clock, randomness and the Prometheus registry. */
@Global()
@Module({ providers: [Clock, Random, MetricsRegistry], exports: [Clock, Random, MetricsRegistry] })
export class CoreModule {}
