// `npm run bench`: runs every bench/*.bench.mjs in name order, each after the build.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
for (const file of readdirSync(here).filter((name) => name.endsWith('.bench.mjs')).sort()) {
  console.log(`\n=== ${file}`);
  await import(pathToFileURL(join(here, file)).href);
}
