import { readSubjectRecord } from '../subject-export/subject-record';
import { subjectExportOf } from '../subject-export/subject-export';
import type { AuditSources } from './audit-io';

/** `export <subject> [--out file]`: the subject's full record as JSON (format: docs/rights.md). */
export async function exportCommand(subjectId: string, options: { out?: string }, sources: AuditSources): Promise<number> {
  const record = await readSubjectRecord(sources.store, subjectId);
  const vault = await sources.openVault();
  const exported = await subjectExportOf(record, { store: sources.store, vault, catalogue: sources.catalogue, now: sources.now() });
  const json = `${JSON.stringify(exported, null, 2)}\n`;
  if (options.out) {
    sources.writeFile(options.out, json);
    sources.stderr.write(`wrote ${record.history.length} events of subject ${subjectId} to ${options.out}\n`);
  } else {
    sources.stdout.write(json);
  }
  return 0;
}
