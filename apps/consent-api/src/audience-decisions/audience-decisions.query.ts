import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { AudienceAnswer, AudienceQuery } from '@consent-ledger/read-models';
import { LedgerStorage } from '../ledger/ledger-storage';

export class AudienceDecisions extends Query<AudienceAnswer> {
  constructor(readonly question: AudienceQuery) {
    super();
  }
}

/**
 * Answered from the read models, after they have applied the log up to its head when the question
 * arrived: every command acknowledged before the question is in the answer.
 */
@QueryHandler(AudienceDecisions)
export class AudienceDecisionsHandler implements IQueryHandler<AudienceDecisions> {
  constructor(private readonly storage: LedgerStorage) {}

  async execute({ question }: AudienceDecisions): Promise<AudienceAnswer> {
    const { eventStore, readModels } = this.storage;
    return readModels.filterAudience(question, await eventStore.headPosition());
  }
}
