#!/usr/bin/env node
// Reads jest's --json report and prints the line CI is judged by. Exits non-zero on any failure,
// any skipped test (an integration suite whose service was down counts as skipped: CI refuses
// that), or a suite that failed to run at all.
const { readFileSync } = require('node:fs');

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
// A suite can fail with every test passed: an uncaught error after its tests, or none run at all.
const brokenSuites = report.testResults.filter(
  (suite) => suite.status === 'failed' && !suite.assertionResults.some((test) => test.status === 'failed'),
);

for (const suite of report.testResults) {
  const skippedHere = suite.assertionResults.filter((test) => test.status === 'pending' || test.status === 'todo');
  if (skippedHere.length > 0) console.log(`skipped: ${skippedHere.length} in ${suite.name}`);
}
for (const suite of brokenSuites) console.log(`suite failed without a failing test: ${suite.name}\n${suite.message}`);

console.log(`${report.numPassedTests} passed, ${report.numFailedTests + brokenSuites.length} failed, ${skipped} skipped`);
process.exit(report.numFailedTests > 0 || brokenSuites.length > 0 || skipped > 0 || !report.success ? 1 : 0);
