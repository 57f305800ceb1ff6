import type { Brand, Channel, DataSource, DecisionReason, Instant, PurposeId } from '@consent-ledger/domain';
import type { GlobalPosition } from '@consent-ledger/event-store';

/** Campaign audience filtering: who of these subjects may be reached for the purpose, and why not. */
export interface AudienceQuery {
  readonly purpose: PurposeId;
  readonly channel?: Channel;
  readonly source?: DataSource;
  readonly brand?: Brand;
  readonly at: Instant;
  readonly subjectIds: readonly string[];
}

export interface AudienceAnswer {
  readonly allowed: readonly string[];
  readonly denied: readonly { readonly subjectId: string; readonly reason: DecisionReason }[];
}

/**
 * The read side the HTTP API needs from the projector's read models. Read-your-writes: callers
 * pass the log position they must see (e.g. the store's head when the request arrived) and the
 * read models wait until every projection has applied it.
 */
export interface ReadModels {
  /** Lowest checkpoint across projections: every event up to it is applied everywhere. */
  checkpoint(): Promise<GlobalPosition>;
  /** Resolves once every projection has applied the log up to `position`; rejects after `timeoutMs`. */
  waitFor(position: GlobalPosition, timeoutMs?: number): Promise<void>;
  filterAudience(query: AudienceQuery, upTo?: GlobalPosition): Promise<AudienceAnswer>;
}
