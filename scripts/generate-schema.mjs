// Writes schemas/keysmith-v1.schema.json from the zod schema of GitOps definitions (run after a build:
// `npm run schema:generate`). A unit test fails when the committed file differs from this output.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { definitionJsonSchema } from '../dist/gitops/definitions/definition.schema.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas', 'keysmith-v1.schema.json');
writeFileSync(target, `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
