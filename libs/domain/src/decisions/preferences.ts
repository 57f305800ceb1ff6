import type { Catalogue } from '../catalogue/catalogue';
import { formerContractOf, type Ledger, runningContractSince } from '../ledger/ledger';
import type { Brand, Channel, DataSource, Instant, PurposeId, RelationshipKind, Segment } from '../vocabulary';
import { type Decision, mayProcess } from './may-process';

export interface RelationshipView {
  readonly brand: Brand;
  readonly relationship: RelationshipKind;
  readonly segment: Segment;
  /** `former` once the relationship ended. */
  readonly status: 'active' | 'former';
  /** When it started, or when it ended for a former one (a repeat of either does not move it). */
  readonly since: Instant;
}

export interface ObjectionView {
  readonly target: string;
  readonly status: 'in-force' | 'pending-review' | 'upheld' | 'rejected';
  readonly since: Instant;
}

export interface Preferences {
  readonly at: Instant;
  readonly brand: Brand;
  readonly erased: boolean;
  readonly relationships: readonly RelationshipView[];
  readonly purposes: readonly ({ readonly purpose: PurposeId } & Decision)[];
  readonly objections: readonly ObjectionView[];
  /** `since`: when the person made the restriction or opt-out, as objections say when they were raised. */
  readonly restrictedChannels: readonly { readonly channel: Channel; readonly purpose?: PurposeId; readonly since: Instant }[];
  readonly optedOutSources: readonly { readonly source: DataSource; readonly purpose?: PurposeId; readonly since: Instant }[];
}

/** Everything a preference centre shows: the relationship, a decision per purpose, and the standing choices. */
export function preferencesOf(ledger: Ledger, catalogue: Catalogue, { at, brand = 'proximus' }: { at: Instant; brand?: Brand }): Preferences {
  return {
    at,
    brand,
    erased: ledger.erasure !== undefined,
    relationships: [...ledger.relationships].flatMap(([relationshipBrand, relationship]) => {
      // A customer's dates come from the contract history, in any arrival order: the start of the
      // contract running, or the end of the last one. A customer end with no contract before it
      // (as of an instant before the start it belongs to) shows no relationship at all.
      const customerSince =
        relationship.kind !== 'customer' ? undefined : relationship.active ? runningContractSince(relationship) : formerContractOf(relationship)?.endedAt;
      if (relationship.kind === 'customer' && !relationship.active && customerSince === undefined) return [];
      const current: RelationshipView = {
        brand: relationshipBrand,
        relationship: relationship.kind,
        segment: relationship.segment,
        status: relationship.active ? 'active' : 'former',
        since: customerSince ?? (relationship.active ? relationship.startedAt : relationship.endedAt) ?? relationship.stamp.occurredAt,
      };
      // A former customer recorded again as a prospect is still a former customer, which is what
      // keeps billing, debt collection and the legal-defence archive going: show both.
      const contract = relationship.kind === 'customer' ? undefined : formerContractOf(relationship);
      if (!contract) return [current];
      return [{ brand: relationshipBrand, relationship: 'customer', segment: contract.segment, status: 'former', since: contract.endedAt }, current];
    }),
    purposes: [...catalogue.purposes.keys()].map((purpose) => ({ purpose, ...mayProcess(ledger, catalogue, { purpose, brand, at }) })),
    objections: [...ledger.objections]
      .filter(([, objection]) => objection.raised)
      .map(([target, objection]) => ({
        target,
        status: !objection.needsReview ? 'in-force' : (objection.review?.outcome ?? 'pending-review'),
        since: objection.stamp.occurredAt,
      })),
    restrictedChannels: [...ledger.channelRestrictions.values()]
      .filter((restriction) => restriction.on)
      .map(({ channel, purpose, stamp }) => ({ channel, ...(purpose !== undefined && { purpose }), since: stamp.occurredAt })),
    optedOutSources: [...ledger.sourceOptOuts.values()]
      .filter((optOut) => optOut.on)
      .map(({ source, purpose, stamp }) => ({ source, ...(purpose !== undefined && { purpose }), since: stamp.occurredAt })),
  };
}
