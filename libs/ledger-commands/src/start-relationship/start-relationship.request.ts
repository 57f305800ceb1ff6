import { RELATIONSHIP_KINDS, type RelationshipKind, SEGMENTS, type Segment, type StartRelationship } from '@consent-ledger/domain';
import { IsOptional } from 'class-validator';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsOneOf } from '../request-fields';

export class StartRelationshipRequest extends CommandRequest {
  @IsOneOf(RELATIONSHIP_KINDS)
  relationship!: RelationshipKind;

  /** Defaults to `residential`. */
  @IsOptional()
  @IsOneOf(SEGMENTS)
  segment?: Segment;
}

export const START_RELATIONSHIP: CommandShape<StartRelationship, StartRelationshipRequest> = {
  request: StartRelationshipRequest,
  dataOf: async ({ relationship, segment }) => ({ relationship, ...(segment !== undefined && { segment }) }),
};
