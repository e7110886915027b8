import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
      // WAL with synchronous=NORMAL: a crash of Keysmith loses nothing; only a power loss may drop
      // the last commits. It makes each write several times cheaper than the default FULL.
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        await dataSource.query('PRAGMA synchronous = NORMAL');
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
