import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type MigrationClass = new () => unknown;

/**
 * Loads the migration classes from `migrations/` (sources, when run from TypeScript by jest) or
 * `dist/migrations/` (compiled), in file-name order. Classes are passed to TypeORM directly, so
 * no glob has to match the runtime's file extension.
 */
export async function loadMigrations(): Promise<MigrationClass[]> {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = import.meta.url.endsWith('.js');
  const dir = compiled ? join(here, '..', 'migrations') : join(here, '..', '..', 'migrations');
  const files = readdirSync(dir)
    .filter((file) => (compiled ? file.endsWith('.js') : file.endsWith('.ts') && !file.endsWith('.d.ts')))
    .sort();
  const classes: MigrationClass[] = [];
  for (const file of files) {
    const module = (await import(join(dir, file))) as Record<string, unknown>;
    classes.push(...Object.values(module).filter((value): value is MigrationClass => typeof value === 'function'));
  }
  return classes;
}
