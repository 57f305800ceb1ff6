/** The public surface of the domain: apps and other libs import only from here. */
export * from './vocabulary';
export * from './time';
export * from './catalogue/catalogue';
export * from './ledger/events';
export * from './ledger/commands';
export * from './ledger/rules';
export * from './ledger/ledger';
export { decide } from './ledger/decide';
export type { LedgerContext } from './ledger/facts';
export { consentStatus, type ConsentStatus } from './ledger/consent/consent-status';
export * from './decisions/may-process';
export * from './decisions/preferences';
