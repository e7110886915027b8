// `npm run bench`: builds (via the npm script), makes sure the local Keycloak runs, then runs every
// bench/*.bench.mjs in name order. Each prints its figures beside a baseline measured in the same run.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKeycloak, root } from './support.mjs';

ensureKeycloak();
const only = process.argv[2];
const files = readdirSync(join(root, 'bench'))
  .filter((file) => file.endsWith('.bench.mjs') && (!only || file.includes(only)))
  .sort();
for (const file of files) {
  console.log(`\n== ${file}`);
  const bench = await import(join(root, 'bench', file));
  // A bench file either runs on import or exports its run as default.
  if (typeof bench.default === 'function') await bench.default();
}
process.exit(0);
