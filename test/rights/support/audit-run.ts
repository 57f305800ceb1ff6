import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Catalogue, Instant } from '@consent-ledger/domain';
import type { EventStore } from '@consent-ledger/event-store';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import { runAudit } from '../../../apps/consent-api/src/audit/run-audit';

export const ROOT = join(__dirname, '../../..');
export const COMPILED_CLI = join(ROOT, 'dist/apps/consent-api/src/audit/audit-cli.js');

export interface AuditRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI's commands in this process, on the given store. */
export async function auditInProcess(
  args: string[],
  { store, vault, catalogue, now }: { store: EventStore; vault?: PersonalDataVault; catalogue: Catalogue; now?: () => Instant },
): Promise<AuditRun> {
  let stdout = '';
  let stderr = '';
  const files = new Map<string, string>();
  const code = await runAudit(args, {
    store,
    catalogue,
    openVault: async () => {
      if (!vault) throw new Error('this test opened no vault');
      return vault;
    },
    now: now ?? (() => new Date().toISOString() as Instant),
    stdout: { write: (text) => void (stdout += text) },
    stderr: { write: (text) => void (stderr += text) },
    writeFile: (path, text) => void files.set(path, text),
  });
  return { code, stdout, stderr };
}

/** Builds the project exactly as `npm run audit` does before running the CLI. */
export function buildProject(): Promise<AuditRun> {
  return run('npm', ['run', 'build', '--silent'], {});
}

/**
 * The compiled CLI as a separate process, as an auditor runs it (`npm run audit -- ...` after the
 * build). With `killAfterMs`, a process still running then is killed (exit code 1), so that a
 * test of a CLI that would wait for ever fails rather than leave it behind.
 */
export function auditProcess(args: string[], env: Record<string, string>, { killAfterMs }: { killAfterMs?: number } = {}): Promise<AuditRun> {
  return run(process.execPath, [COMPILED_CLI, ...args], env, killAfterMs);
}

function run(command: string, args: string[], env: Record<string, string>, killAfterMs = 0): Promise<AuditRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: killAfterMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
