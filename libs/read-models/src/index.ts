export * from './read-models.port';
export { createReadModels, followCatalogueRules, followLog, openReadModelStorage, type CreateReadModelsOptions, type ReadModelStorageOptions } from './create-read-models';
export { catalogueRulesOf } from './catalogue-rules';
export { ProjectedReadModels, AudienceTooLarge, UnknownPurpose, MAX_AUDIENCE_SIZE, type ProjectedReadModelsOptions } from './read-models';
export { CheckpointTimeout, ReadModelsBehind } from './checkpoint-watch';
export { type AppliedBatch, startProjections, type Projections, type StartProjectionsOptions, type ProjectionLog } from './projection-runner';
export { leadRole, type RoleLeadership, type RoleLeadershipOptions } from './role-leadership';
export {
  CONSENT_FEED,
  consentFeedOf,
  type FeedProgress,
  READ_MODELS_CHECKPOINT,
  REPUBLICATION_PAGE_SIZE,
  republicationMarkerOf,
  type ReadModelStorage,
  type ReadModelTablesDump,
  type RepublicationStep,
  type StateChange,
} from './storage/read-model-storage';
export { LEDGER_STREAM_PREFIX, readLedgerEvent, type ProjectedEvent, type LedgerEventReading } from './ledger-events';
export { AUDIENCES, type AudienceId, type AudienceRow } from './audience-membership/audience-membership.projection';
export { defaultDecisionRowsOf, type DecisionRow } from './current-decisions/current-decisions.projection';
export type { SuppressionRow, SuppressionReason } from './channel-suppressions/channel-suppressions.projection';
export { brandsDealtWithIn, isDealingWith, type OtherBrand, otherBrandsOf, otherBrandsPreferencesOf, subjectBrandOf, type SubjectView } from './subject-ledger/subject-view';
export type { ChangeSet, SubjectChange } from './change-set';
export { serialiseLedger, deserialiseLedger } from './subject-ledger/ledger-snapshot';
