/** One jest run covers every suite: unit, contract, integration and end-to-end. */
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
}];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.spec\\.ts$',
  // KurrentDB cannot run on these machines: its contract suite is collected only when a server is
  // named, and global-setup says plainly that it did not run (rather than counting it as skipped).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', ...(process.env.EVENTSTORE_URL ? [] : ['\\.kurrent\\.spec\\.ts$'])],
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@consent-ledger/domain$': '<rootDir>/libs/domain/src/index.ts',
    '^@consent-ledger/domain/testing$': '<rootDir>/libs/domain/src/testing/index.ts',
    '^@consent-ledger/event-store$': '<rootDir>/libs/event-store/src/index.ts',
    '^@consent-ledger/event-store/testing$': '<rootDir>/libs/event-store/src/testing/index.ts',
    '^@consent-ledger/personal-data$': '<rootDir>/libs/personal-data/src/index.ts',
    '^@consent-ledger/ledger-commands$': '<rootDir>/libs/ledger-commands/src/index.ts',
    '^@consent-ledger/read-models$': '<rootDir>/libs/read-models/src/index.ts',
    '^@consent-ledger/deployment$': '<rootDir>/libs/deployment/src/index.ts',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 30000,
  // A failed test can leave a connection open behind it; jest would then wait for it forever after
  // reporting, and CI would time out instead of showing the failure. Jest still names the leak.
  forceExit: true,
};
