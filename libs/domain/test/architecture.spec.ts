import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The domain stays pure: no framework, no driver, no I/O, no clock. This scan fails the build
 * when production code under libs/domain/src imports one (tests and test builders may).
 */
const FORBIDDEN = [
  /^@nestjs\//,
  /^kafkajs$/,
  /^pg$/,
  /^better-sqlite3$/,
  /^@kurrent\//,
  /^@eventstore\//,
  /^class-validator$/,
  /^class-transformer$/,
  /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|tls|worker_threads|cluster|dns)$/,
];
const CLOCKS = [/\bDate\.now\(/, /new Date\(\s*\)/, /\bMath\.random\(/, /\brandomUUID\(/];

const root = join(__dirname, '..', 'src');
const productionFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : productionFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });

const importsOf = (source: string): string[] =>
  [...source.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map((match) => match[1]);

describe('the domain library', () => {
  const files = productionFiles(root);

  it('has production files to check', () => expect(files.length).toBeGreaterThan(10));

  it.each(files.map((file) => [relative(root, file), file]))('%s imports no framework, driver or I/O module', (_, file) => {
    const forbidden = importsOf(readFileSync(file, 'utf8')).filter((specifier) => FORBIDDEN.some((rule) => rule.test(specifier)));
    expect(forbidden).toEqual([]);
  });

  it.each(files.map((file) => [relative(root, file), file]))('%s reads no clock and draws no random numbers', (_, file) => {
    const source = readFileSync(file, 'utf8');
    expect(CLOCKS.filter((clock) => clock.test(source)).map(String)).toEqual([]);
  });

  it('catches a forbidden import when one is written', () => {
    const offending = importsOf(`import { Injectable } from '@nestjs/common';\nconst fs = require('node:fs');`);
    expect(offending.filter((specifier) => FORBIDDEN.some((rule) => rule.test(specifier)))).toEqual(['@nestjs/common', 'node:fs']);
  });
});
