import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { type Brand, type Catalogue, type Instant, type Preferences, preferencesOf } from '@consent-ledger/domain';
import { ledgerOfStreamAsOf, SubjectStreams } from '@consent-ledger/ledger-commands';
import { CATALOGUE } from '../ledger/catalogue-file';

/** What a preference centre shows: relationships, a decision for every purpose, standing choices. */
export class SubjectPreferences extends Query<Preferences> {
  constructor(
    readonly subjectId: string,
    readonly question: { readonly at: Instant; readonly knownAt?: Instant; readonly brand?: Brand },
  ) {
    super();
  }
}

@QueryHandler(SubjectPreferences)
export class SubjectPreferencesHandler implements IQueryHandler<SubjectPreferences> {
  constructor(
    private readonly streams: SubjectStreams,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
  ) {}

  async execute({ subjectId, question }: SubjectPreferences): Promise<Preferences> {
    const stream = await this.streams.read(subjectId);
    return preferencesOf(ledgerOfStreamAsOf(stream, question), this.catalogue, question);
  }
}
