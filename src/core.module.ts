import { Global, Module } from '@nestjs/common';
import { Clock } from './common/time/clock.js';
import { Randomness } from './common/random/randomness.js';

/** Cross-cutting providers every feature may inject: the clock and the randomness source. */
@Global()
@Module({ providers: [Clock, Randomness], exports: [Clock, Randomness] })
export class CoreModule {}
