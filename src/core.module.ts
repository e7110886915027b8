import { Global, Module } from '@nestjs/common';
import { Clock } from './common/time/clock.js';

/** Cross-cutting providers every feature may inject: the clock. */
@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class CoreModule {}
