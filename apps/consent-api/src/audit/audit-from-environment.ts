import type { Instant } from '@consent-ledger/domain';
import { createEventStore } from '@consent-ledger/event-store';
import { createPersonalDataVault, KeyStoreMissing, MasterKeyMissing, type PersonalDataVault } from '@consent-ledger/personal-data';
import { loadCatalogueFile } from '../ledger/catalogue-file';
import { type AuditConfig, auditConfigFrom, missingStoreProblem } from './audit-config';
import { type AuditSources, writePrivateFile } from './audit-io';
import { isAuditCommand, runAudit } from './run-audit';

/**
 * What `npm run audit -- <command>` does: opens what the environment names, runs the command,
 * closes, and returns the exit code (3 when the audit could not run). The process entry point
 * (`audit-cli.ts`) only passes its arguments, environment and terminal.
 */
export async function auditFromEnvironment(argv: readonly string[], env: NodeJS.ProcessEnv, terminal: Pick<AuditSources, 'stdout' | 'stderr'>): Promise<number> {
  try {
    const config = auditConfigFrom(env);
    // Help and usage errors need no log; every command does.
    const missing = isAuditCommand(argv[0]) ? await missingStoreProblem(config.eventStore) : undefined;
    if (missing) {
      terminal.stderr.write(`audit failed: ${missing}\n`);
      return 3;
    }
    const catalogue = loadCatalogueFile(config.catalogueFile);
    const store = await createEventStore(config.eventStore);
    let vault: PersonalDataVault | undefined;
    try {
      return await runAudit(argv, {
        store,
        catalogue,
        openVault: async () => (vault ??= await openServiceVault(config)),
        now: () => new Date().toISOString() as Instant,
        ...terminal,
        writeFile: writePrivateFile,
      });
    } finally {
      await vault?.close();
      await store.close();
    }
  } catch (error) {
    terminal.stderr.write(`audit failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  }
}

async function openServiceVault(config: AuditConfig): Promise<PersonalDataVault> {
  try {
    return await createPersonalDataVault(config.vault());
  } catch (error) {
    if (!(error instanceof KeyStoreMissing || error instanceof MasterKeyMissing)) throw error;
    throw new Error(
      `${error.message}: personal data is opened only with the service's own keys, and the auditor makes none. ` +
        'Set DATA_DIR (or DATABASE_URL, and MASTER_KEY) to the ones the service uses; a copy of the log alone holds no keys (docs/decisions/0006).',
    );
  }
}
