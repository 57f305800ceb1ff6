import { randomBytes } from 'node:crypto';
import { realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Instant, toInstant } from '@consent-ledger/domain';
import type { EventStore, IntegrityBreak } from '@consent-ledger/event-store';
import type { Catalogue } from '@consent-ledger/domain';
import type { PersonalDataVault } from '@consent-ledger/personal-data';

export interface Output {
  write(text: string): void;
}

/** What the audit commands work on; the CLI opens them from the environment, tests pass their own. */
export interface AuditSources {
  readonly store: EventStore;
  readonly catalogue: Catalogue;
  /** Opened only by the commands that read personal data, so `verify` needs no master key. */
  openVault(): Promise<PersonalDataVault>;
  readonly now: () => Instant;
  readonly stdout: Output;
  readonly stderr: Output & { readonly isTTY?: boolean };
  writeFile(path: string, text: string): void;
}

/**
 * Writes `text` to `path` readable by its owner only (0600), also over an existing file: an
 * overwrite in place keeps that file's mode, 0644 say, and whoever opened it before could read on.
 * So the text goes into a new file made 0600 beside it, which then takes its place.
 */
export function writePrivateFile(path: string, text: string): void {
  const existing = statSync(path, { throwIfNoEntry: false });
  // A pipe, a terminal or a process substitution (`--out >(gpg -e …)`) is written into, never
  // replaced: the reader on its other end is where the export goes (found in review).
  if (existing && !existing.isFile()) {
    writeFileSync(path, text);
    return;
  }
  // Through a symbolic link, the file it names is replaced, in its own directory (an encrypted volume, say).
  const target = existing ? realpathSync(path) : path;
  const beside = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(beside, text, { mode: 0o600, flag: 'wx' });
    renameSync(beside, target);
  } catch (error) {
    rmSync(beside, { force: true });
    throw error;
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function instantArgument(name: string, value: string | undefined): Instant {
  const instant = value === undefined ? undefined : toInstant(value);
  if (!instant) throw new UsageError(`${name} must be an ISO-8601 instant with a time zone, e.g. 2024-07-15T00:00:00Z (got ${value ?? 'nothing'})`);
  return instant;
}

export const yesNo = (allowed: boolean) => (allowed ? 'ALLOWED' : 'DENIED ');

/** "19d 6h", "3h 12m", "42s": how late an event was keyed in. */
export function durationText(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const [d, h, m] = [Math.floor(seconds / 86_400), Math.floor((seconds % 86_400) / 3600), Math.floor((seconds % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${seconds % 60}s`;
  return `${seconds}s`;
}

/**
 * Checks the subject's hash chain before an answer is read from it, and says on stderr where it
 * is broken: found in review, `as-of` and `history` answered from altered events, exit 0, where
 * only `verify` would have told. The answer is still given (it is what the log says now); the
 * exit code is 1, as `verify`'s for a break.
 */
export async function brokenChainOf(sources: Pick<AuditSources, 'store' | 'stderr'>, streamName: string): Promise<IntegrityBreak | undefined> {
  const report = await sources.store.verify({ streamName });
  if (report.intact) return undefined;
  const broken = report.firstBreak!;
  const at = [broken.revision !== undefined && `revision ${broken.revision}`, broken.position !== undefined && `position ${broken.position}`].filter(Boolean).join(', ');
  sources.stderr.write(`WARNING: the hash chain of ${streamName} is broken (${broken.kind}${at ? ` at ${at}` : ''}): what follows is read from events that were altered. ${broken.detail}\n`);
  return broken;
}
