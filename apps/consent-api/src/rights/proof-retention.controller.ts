import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PROOF_RETENTION_RUNS_STREAM, type ProofRetentionRun, type ProofRetentionRunCompleted } from '@consent-ledger/domain';
import { Optional } from '@consent-ledger/ledger-commands';
import { IsBoolean } from 'class-validator';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { ApiQueriesFrom } from '../http/api-schemas';
import { cursorOf, IsPageCursor, IsPageLimit, readCursor } from '../http/pages';
import { NoQueryParameters, validOrThrow } from '../http/request-invalid';
import { requestSchema } from '../http/request-schema';
import { LedgerStorage } from '../ledger/ledger-storage';
import { ProofRetentionJob } from './proof-retention.job';

/** `POST /v1/proof-retention/runs` */
export class ProofRetentionRunBody {
  /**
   * Decide and report, remove nothing. `null` is refused, not read as left out: a real run cannot
   * be undone, so only a body that says nothing about it, or `false`, makes one.
   */
  @Optional()
  @IsBoolean({ message: 'must be true or false' })
  dryRun?: boolean;
}

/**
 * Runs per page. A run lists every record it removed (some 100 bytes each): a daily run of a
 * national operator removes thousands, so a page of 10 runs is already a few megabytes at worst,
 * and 100 runs the most one answer should carry. A run's own list of removals is not paged.
 */
export const RUNS_PER_PAGE = { byDefault: 10, max: 100 } as const;

/** `GET /v1/proof-retention/runs?limit=&after=` */
export class ListProofRetentionRunsQuery {
  @Optional()
  @IsPageLimit(RUNS_PER_PAGE)
  limit?: string;

  /** The `next` of the page before: the list continues after the last run it held. */
  @Optional()
  @IsPageCursor()
  after?: string;
}

export interface ProofRetentionRunList {
  /** Completed runs, and runs stopped part-way as a later run recorded them (`interrupted: true`). */
  readonly runs: ProofRetentionRun['data'][];
  /** Where the next page starts (`after`); null on the last page. */
  readonly next: string | null;
}

/** Runs continue after the revision of the last one in the stream `proof-retention-runs`, which only grows. */
const RUNS_LIST = 'proof-retention-runs';

@ApiTags('rights')
@ApiBearerAuth()
@Controller('v1/proof-retention/runs')
@RequireAnyScope('rights:manage')
export class ProofRetentionController {
  constructor(
    private readonly job: ProofRetentionJob,
    private readonly storage: LedgerStorage,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Run the proof-retention job now: remove the records whose retention ended, destroy their keys, record the run' })
  @ApiBody({ required: false, schema: requestSchema(ProofRetentionRunBody) })
  run(@NoQueryParameters() _none: void, @Body() body: unknown): Promise<ProofRetentionRunCompleted['data']> {
    const { dryRun } = validOrThrow(ProofRetentionRunBody, body ?? {});
    return this.job.run({ dryRun: dryRun === true }).then((run) => run.data);
  }

  @Get()
  @ApiOperation({ summary: 'The recorded runs of the proof-retention job, oldest first, a page at a time: follow next (as after) for the next page' })
  @ApiQueriesFrom(ListProofRetentionRunsQuery, {
    limit: `the most runs one page holds (default ${RUNS_PER_PAGE.byDefault}, at most ${RUNS_PER_PAGE.max})`,
    after: 'the next of the page before, unchanged',
  })
  async runs(@Query() query: unknown): Promise<ProofRetentionRunList> {
    const { limit, after } = validOrThrow(ListProofRetentionRunsQuery, query);
    const pageSize = limit === undefined ? RUNS_PER_PAGE.byDefault : Number(limit);
    const fromRevision = after === undefined ? 0 : readCursor(after, RUNS_LIST, revisionIn) + 1;
    // One more than the page, read from the store, not the whole stream: it tells whether a next page exists.
    const stored = await this.storage.eventStore.readStream(PROOF_RETENTION_RUNS_STREAM, { fromRevision, maxCount: pageSize + 1 });
    const page = stored.slice(0, pageSize);
    const last = page.at(-1);
    return {
      runs: page.map((event) => event.data as unknown as ProofRetentionRun['data']),
      next: stored.length > pageSize && last ? cursorOf(RUNS_LIST, { revision: last.revision }) : null,
    };
  }
}

function revisionIn({ revision }: Record<string, unknown>): number | undefined {
  return typeof revision === 'number' && Number.isSafeInteger(revision) && revision >= 0 && revision < Number.MAX_SAFE_INTEGER ? revision : undefined;
}
