import { RELATIONSHIP_KINDS, type RelationshipKind, SEGMENTS, type Segment, type StartRelationship } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsOneOf, Optional } from '../request-fields';

export class StartRelationshipRequest extends CommandRequest {
  @IsOneOf(RELATIONSHIP_KINDS)
  relationship!: RelationshipKind;

  /** Defaults to `residential`. */
  @Optional()
  @IsOneOf(SEGMENTS)
  segment?: Segment;
}

export const START_RELATIONSHIP: CommandShape<StartRelationship, StartRelationshipRequest> = {
  request: StartRelationshipRequest,
  dataOf: async ({ relationship, segment }) => ({ relationship, ...(segment !== undefined && { segment }) }),
};
