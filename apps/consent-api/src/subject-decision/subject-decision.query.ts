import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { type AsOf, type Catalogue, type Decision, decisionForOneSubject, type DecisionQuery } from '@consent-ledger/domain';
import { ledgerOfStreamAsOf, SubjectStreams } from '@consent-ledger/ledger-commands';
import { CATALOGUE } from '../ledger/catalogue-file';

/** May this purpose be processed for this subject (at an instant, as known at another)? */
export class SubjectDecision extends Query<Decision> {
  constructor(
    readonly subjectId: string,
    readonly question: DecisionQuery & Pick<AsOf, 'knownAt'>,
  ) {
    super();
  }
}

/** Answered from the subject's stream, read through to the store's latest event: read-your-writes without waiting. */
@QueryHandler(SubjectDecision)
export class SubjectDecisionHandler implements IQueryHandler<SubjectDecision> {
  constructor(
    private readonly streams: SubjectStreams,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
  ) {}

  async execute({ subjectId, question }: SubjectDecision): Promise<Decision> {
    const stream = await this.streams.read(subjectId);
    return decisionForOneSubject(ledgerOfStreamAsOf(stream, question), this.catalogue, question);
  }
}
