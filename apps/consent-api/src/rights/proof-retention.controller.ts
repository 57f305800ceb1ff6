import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PROOF_RETENTION_RUNS_STREAM, type ProofRetentionRunCompleted } from '@consent-ledger/domain';
import { IsBoolean, IsOptional } from 'class-validator';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { NoQueryParameters, validOrThrow } from '../http/request-invalid';
import { requestSchema } from '../http/request-schema';
import { LedgerStorage } from '../ledger/ledger-storage';
import { ProofRetentionJob } from './proof-retention.job';

/** `POST /v1/proof-retention/runs` */
export class ProofRetentionRunBody {
  /** Decide and report, remove nothing. */
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

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
  @ApiOperation({ summary: 'Every recorded run of the proof-retention job, oldest first' })
  async runs(@NoQueryParameters() _none: void): Promise<{ runs: ProofRetentionRunCompleted['data'][] }> {
    const stored = await this.storage.eventStore.readStream(PROOF_RETENTION_RUNS_STREAM);
    return { runs: stored.map((event) => event.data as unknown as ProofRetentionRunCompleted['data']) };
  }
}
