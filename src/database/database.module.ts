import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { databaseOptions, openDataSource } from './database-options.js';

/**
 * The TypeORM connection to SQLite or PostgreSQL (DATABASE_URL); migrations run at start-up,
 * `synchronize` is never used.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => ({
        ...(await databaseOptions(config.database)),
        autoLoadEntities: true,
      }),
      dataSourceFactory: (options) => openDataSource(options!),
    }),
  ],
})
export class DatabaseModule {}
