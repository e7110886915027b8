import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChangeEntity } from './change.entity.js';
import { ChangeFeed } from './change-feed.js';

/** The change feed every feature publishes to and listens on (see change-feed.ts). */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([ChangeEntity])],
  providers: [ChangeFeed],
  exports: [ChangeFeed],
})
export class ChangesModule {}
