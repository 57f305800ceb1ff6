import { CataloguesInTheLog } from '@consent-ledger/ledger-commands';
import { RightsRequests } from '../rights/rights-requests';
import { subjectExportOf } from '../subject-export/subject-export';
import { readSubjectRecord } from '../subject-export/subject-record';
import type { AuditSources } from './audit-io';

/**
 * `export <subject> [--out file]`: the subject's full record as JSON (format: docs/rights.md).
 * Exit code 1 when sealed personal data could not be opened though the subject was not erased.
 * Finding the subject's rights requests reads the whole log once: seconds on a large store.
 */
export async function exportCommand(subjectId: string, options: { out?: string }, sources: AuditSources): Promise<number> {
  const record = await readSubjectRecord(sources.store, subjectId);
  const vault = await sources.openVault();
  const rightsRequests = (await new RightsRequests(sources.store).all()).filter((request) => request.status !== 'none' && request.subjectId === subjectId);
  const catalogues = new CataloguesInTheLog(sources.store, sources.catalogue);
  const exported = await subjectExportOf(record, { store: sources.store, vault, catalogue: sources.catalogue, catalogues, now: sources.now(), rightsRequests });
  const json = `${JSON.stringify(exported, null, 2)}\n`;
  if (options.out) {
    sources.writeFile(options.out, json);
    sources.stderr.write(`wrote ${record.history.length} events of subject ${subjectId} to ${options.out}\n`);
  } else {
    sources.stdout.write(json);
  }
  if (exported.personalData !== 'unreadable') return 0;
  // The export is incomplete: a person asking for their data is owed it, so this must not pass unnoticed.
  sources.stderr.write(
    `personal data of subject ${subjectId} is unreadable, and the log records no erasure: the key store holds no key that opens it. ` +
      'Check that DATA_DIR (or DATABASE_URL) names the key store the service uses; otherwise it was lost or restored from an older backup, ' +
      'or a proof-retention run dropped the key and kept the stream (its failures in proof-retention-runs say so).\n',
  );
  return 1;
}
