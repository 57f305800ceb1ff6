import { ProofRetentionJob } from '../rights/proof-retention.job';
import { RightsRequests } from '../rights/rights-requests';
import type { AuditSources } from './audit-io';

/**
 * `retention [--dry-run]`: one run of the proof-retention job, for a cron schedule. Removes the
 * records whose retention ended, destroys their keys and records the run; prints what it did.
 * Learning of open rights requests (which hold their subjects' records) reads the whole log once more.
 */
export async function retentionCommand(options: { dryRun?: boolean }, sources: AuditSources): Promise<number> {
  const vault = await sources.openVault();
  const rightsRequests = new RightsRequests(sources.store);
  const job = new ProofRetentionJob({ store: sources.store, vault, catalogue: sources.catalogue, clock: { now: sources.now }, rightsRequests });
  const { data: run } = await job.run({ dryRun: options.dryRun === true });
  const lines = [
    `${run.dryRun ? 'Dry run: would remove' : 'Removed'} ${run.removed.length} of ${run.subjectsChecked} subjects' records (run ${run.runId}, catalogue ${run.catalogueVersion}).`,
    ...run.removed.map((removed) => `  ${removed.subjectId}: ${removed.eventsRemoved} events, proof retention ended ${removed.removableFrom}`),
    ...run.failures.map((failure) => `  FAILED ${failure.subjectId}: ${failure.reason}`),
  ];
  sources.stdout.write(`${lines.join('\n')}\n`);
  return run.failures.length > 0 ? 1 : 0;
}
