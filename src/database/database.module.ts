import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { databaseOptions } from './database-options.js';

/** The TypeORM connection; migrations run at start-up, `synchronize` is never used. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => ({
        ...(await databaseOptions(config.databasePath)),
        autoLoadEntities: true,
      }),
    }),
  ],
})
export class DatabaseModule {}
