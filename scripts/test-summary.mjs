// Sums jest's JSON reports into the one closing line CI reads: `N passed, N failed`.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`missing test report ${file}: that run did not finish`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
  if (report.numPendingTests + report.numTodoTests > 0) {
    console.error(`${file}: ${report.numPendingTests + report.numTodoTests} skipped tests are not allowed`);
    failed += report.numPendingTests + report.numTodoTests;
  }
}
// The e2e suites' closing log scans (test/support/secret-scan.ts), summed into one figure.
const scanFile = 'test-results/secret-scan.jsonl';
if (existsSync(scanFile)) {
  const scans = readFileSync(scanFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const sum = (field) => scans.reduce((total, scan) => total + scan[field], 0);
  console.log(`secret scan: ${sum('logLines')} log lines of ${scans.length} suites checked for ${sum('secrets')} secrets, keys and tokens: ${sum('found')} found`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
