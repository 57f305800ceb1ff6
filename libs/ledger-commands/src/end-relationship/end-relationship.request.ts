import type { EndRelationship } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';

export class EndRelationshipRequest extends CommandRequest {}

export const END_RELATIONSHIP: CommandShape<EndRelationship, EndRelationshipRequest> = {
  request: EndRelationshipRequest,
  dataOf: async () => ({}),
};
