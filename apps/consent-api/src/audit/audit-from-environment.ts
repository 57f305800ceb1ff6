import type { Catalogue, Instant } from '@consent-ledger/domain';
import { connectionWaitMs, createEventStore, isAnswerLate, isNoConnectionInTime } from '@consent-ledger/event-store';
import { createPersonalDataVault, KeyStoreMissing, MasterKeyMissing, type PersonalDataVault } from '@consent-ledger/personal-data';
import { loadCatalogueFile } from '../ledger/catalogue-file';
import { type AuditConfig, auditConfigFrom, missingStoreProblem } from './audit-config';
import { type AuditSources, writePrivateFile } from './audit-io';
import { answerWithUsage, isAuditCommand, runAudit } from './run-audit';

/**
 * What `npm run audit -- <command>` does: opens what the environment names, runs the command,
 * closes, and returns the exit code (3 when the audit could not run). The process entry point
 * (`audit-cli.ts`) only passes its arguments, environment and terminal.
 */
export async function auditFromEnvironment(argv: readonly string[], env: NodeJS.ProcessEnv, terminal: Pick<AuditSources, 'stdout' | 'stderr'>): Promise<number> {
  // Opening the log would create an empty one where a mistyped DATA_DIR or schema points, which
  // verify would then call intact (found in review): help and usage errors need neither log nor settings.
  if (!isAuditCommand(argv[0])) return answerWithUsage(argv[0], terminal);
  let config: AuditConfig;
  try {
    config = auditConfigFrom(env);
  } catch (error) {
    terminal.stderr.write(`audit failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  }
  try {
    const missing = await missingStoreProblem(config.eventStore);
    if (missing) {
      terminal.stderr.write(`audit failed: ${missing}\n`);
      return 3;
    }
    const store = await createEventStore(config.eventStore);
    let vault: PersonalDataVault | undefined;
    let catalogue: Catalogue | undefined;
    try {
      return await runAudit(argv, {
        store,
        // Loaded by the first command that reads it: verify reads none, and from cron, a CATALOGUE_FILE
        // relative to another working directory must not fail it.
        get catalogue() {
          return (catalogue ??= loadCatalogueFile(config.catalogueFile));
        },
        openVault: async () => (vault ??= await openServiceVault(config, terminal.stderr)),
        now: () => new Date().toISOString() as Instant,
        ...terminal,
        writeFile: writePrivateFile,
      });
    } finally {
      await vault?.close();
      await store.close();
    }
  } catch (error) {
    terminal.stderr.write(`audit failed: ${failureMessage(error, config)}\n`);
    return 3;
  }
}

/**
 * The error's message; when PostgreSQL did not answer in time, first which database and after how
 * long: the auditor is to tell a database out of reach, or a setting too short for it, from a
 * fault of the audit.
 */
function failureMessage(error: unknown, config: AuditConfig): string {
  const message = error instanceof Error ? error.message : String(error);
  if (config.eventStore.kind !== 'postgres') return message;
  const database = `PostgreSQL at ${databaseOf(config.eventStore.url)}`;
  const timeoutMs = config.databaseAnswerTimeoutMs;
  if (causes(error).some(isAnswerLate)) return `${database} did not answer within DATABASE_ANSWER_TIMEOUT_SECONDS (${timeoutMs / 1000} s): ${message}`;
  if (causes(error).some(isNoConnectionInTime)) {
    return `${database} gave no connection within ${connectionWaitMs(timeoutMs) / 1000} s (DATABASE_ANSWER_TIMEOUT_SECONDS, 5 s at most): ${message}`;
  }
  return message;
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 5; current = (current as { cause?: unknown }).cause) chain.push(current);
  return chain;
}

/** Host, port and database of a connection string, without its user or password. */
function databaseOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}/${decodeURIComponent(parsed.pathname.slice(1))}`;
  } catch {
    return 'DATABASE_URL';
  }
}

async function openServiceVault(config: AuditConfig, stderr: AuditSources['stderr']): Promise<PersonalDataVault> {
  const vault = config.vault();
  // A retention run's scrub left pending is done by the service's processes; the auditor is told why it is.
  const log = { warn: (message: string) => stderr.write(`audit: ${message}\n`), log: (message: string) => stderr.write(`audit: ${message}\n`) };
  try {
    return await createPersonalDataVault(vault.kind === 'postgres' ? { ...vault, log } : vault);
  } catch (error) {
    if (!(error instanceof KeyStoreMissing || error instanceof MasterKeyMissing)) throw error;
    throw new Error(
      `${error.message}: personal data is opened only with the service's own keys, and the auditor makes none. ` +
        'Set DATA_DIR (or DATABASE_URL, and MASTER_KEY) to the ones the service uses; a copy of the log alone holds no keys (docs/decisions/0006).',
    );
  }
}
