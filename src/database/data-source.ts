import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';
import { databaseOptions } from './database-options.js';

// For the TypeORM CLI (npm run migration:run / migration:generate), run against dist/.
const url = process.env.DATABASE_URL ?? 'sqlite:./data/keysmith.sqlite';
const dist = join(dirname(fileURLToPath(import.meta.url)), '..');

export default new DataSource({
  ...(await databaseOptions(url.replace(/^sqlite:/, ''))),
  entities: [join(dist, '**/*.entity.js')],
});
