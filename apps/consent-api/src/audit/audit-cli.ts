import { writeFileSync } from 'node:fs';
import type { Instant } from '@consent-ledger/domain';
import { createEventStore } from '@consent-ledger/event-store';
import { createPersonalDataVault, type PersonalDataVault } from '@consent-ledger/personal-data';
import { loadCatalogueFile } from '../ledger/catalogue-file';
import { auditConfigFrom, missingStoreProblem } from './audit-config';
import { isAuditCommand, runAudit } from './run-audit';

/** Entry point of `npm run audit -- <command>`: opens what the environment names, runs, closes, exits. */
async function main(): Promise<number> {
  const config = auditConfigFrom(process.env);
  // Help and usage errors need no log; every command does.
  const missing = isAuditCommand(process.argv[2]) ? missingStoreProblem(config.eventStore) : undefined;
  if (missing) {
    process.stderr.write(`audit failed: ${missing}\n`);
    return 3;
  }
  const catalogue = loadCatalogueFile(config.catalogueFile);
  const store = await createEventStore(config.eventStore);
  let vault: PersonalDataVault | undefined;
  try {
    return await runAudit(process.argv.slice(2), {
      store,
      catalogue,
      openVault: async () => (vault ??= await createPersonalDataVault(config.vault())),
      now: () => new Date().toISOString() as Instant,
      stdout: process.stdout,
      stderr: process.stderr,
      writeFile: (path, text) => writeFileSync(path, text, { mode: 0o600 }),
    });
  } finally {
    await vault?.close();
    await store.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`audit failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 3;
  },
);
