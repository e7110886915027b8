import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';
import { databaseConfigFromEnv } from '../config/database-config.js';
import { databaseOptions } from './database-options.js';
import { adaptDriver } from './dialect.js';

// For the TypeORM CLI (npm run migration:run / migration:generate), run against dist/, on the
// database of DATABASE_URL (SQLite by default) with the DATABASE_SSL* and pool settings.
const dist = join(dirname(fileURLToPath(import.meta.url)), '..');

export default adaptDriver(
  new DataSource({
    ...(await databaseOptions(databaseConfigFromEnv(process.env))),
    entities: [join(dist, '**/*.entity.js')],
  }),
);
