// Validates an OpenAPI document with @apidevtools/swagger-parser (schema and references).
// Usage: node scripts/validate-openapi.mjs openapi.json  -> prints "N errors" last; exit 1 on any error.
import SwaggerParser from '@apidevtools/swagger-parser';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/validate-openapi.mjs FILE');
  process.exit(2);
}
const document = JSON.parse(readFileSync(file, 'utf8'));
const operations = Object.values(document.paths ?? {}).reduce(
  (total, item) => total + ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'].filter((method) => item[method]).length,
  0,
);
try {
  await SwaggerParser.validate(document);
  console.log(`OpenAPI ${document.openapi}: ${operations} operations, 0 errors`);
} catch (error) {
  const details = error.details ?? [];
  for (const detail of details) console.log(`${(detail.instancePath ?? detail.path ?? '').toString()}: ${detail.message}`);
  if (details.length === 0) console.log(error.message);
  console.log(`${Math.max(details.length, 1)} errors`);
  process.exit(1);
}
