/**
 * What every way into the ledger shares (HTTP today, the Kafka command topic next): the request
 * classes and their checks, the command intake with idempotency, and running commands on streams.
 */
export * from './command-request';
export * from './command-scope';
export * from './command-shapes';
export * from './request-fields';
export * from './request-validation';
export * from './raw-json';
export * from './field-names';
export * from './parse-command-request';
export * from './request-fingerprint';
export * from './event-ids';
export * from './published-catalogues';
export * from './subject-streams';
export * from './ledger-streams';
export * from './command-intake';
export * from './command-failures';
export * from './per-key-queue';
export * from './idempotency/idempotency-records.port';
export * from './idempotency/copies-elsewhere';
export * from './idempotency/idempotency-key';
export * from './idempotency/idempotency-key-reused';
export * from './idempotency/idempotency-records-sweep';
export * from './idempotency/in-memory-idempotency-records';
export * from './idempotency/sqlite-idempotency-records';
export * from './idempotency/postgres-idempotency-records';
export { GiveConsentRequest, ContactRequest } from './give-consent/give-consent.request';
export { WithdrawConsentRequest } from './withdraw-consent/withdraw-consent.request';
export { ObjectToProcessingRequest } from './object-to-processing/object-to-processing.request';
export { WithdrawObjectionRequest } from './withdraw-objection/withdraw-objection.request';
export { ReviewObjectionRequest } from './review-objection/review-objection.request';
export { RestrictChannelRequest } from './restrict-channel/restrict-channel.request';
export { LiftChannelRestrictionRequest } from './lift-channel-restriction/lift-channel-restriction.request';
export { OptOutSourceRequest } from './opt-out-source/opt-out-source.request';
export { OptInSourceRequest } from './opt-in-source/opt-in-source.request';
export { StartRelationshipRequest } from './start-relationship/start-relationship.request';
export { EndRelationshipRequest } from './end-relationship/end-relationship.request';
export { EraseSubjectRequest, DEFAULT_ERASURE_BASIS } from './erase-subject/erase-subject.request';
