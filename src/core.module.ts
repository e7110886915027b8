import { Global, Module } from '@nestjs/common';
import { MetricsRegistry } from './common/metrics/metrics.registry.js';
import { Clock } from './common/time/clock.js';

/** Cross-cutting providers every feature may inject: the clock and the Prometheus registry. */
@Global()
@Module({ providers: [Clock, MetricsRegistry], exports: [Clock, MetricsRegistry] })
export class CoreModule {}
