import { parseArgs } from 'node:util';
import { asOfCommand } from './as-of-command';
import { type AuditSources, UsageError } from './audit-io';
import { exportCommand } from './export-command';
import { historyCommand } from './history-command';
import { retentionCommand } from './retention-command';
import { verifyCommand } from './verify-command';

export const AUDIT_USAGE = `Usage: npm run audit -- <command>

  history <subject> [--json]
      The subject's events as a timeline: when each choice was expressed and recorded, where, by whom,
      what it changed, late arrivals marked, and per purpose the decision as chosen vs as known then.
      Exit code 3 when the subject's record was removed under proof retention (the message says when).
  as-of <subject> <instant> [--known-at <instant>] [--purpose <id>]... [--brand b] [--channel c] [--source s] [--json]
      What was allowed at <instant> and why, with the events that decided it. With --known-at: as the
      system knew it at that instant (late evidence left out).
  verify [--subject <subject>]
      Walks the hash chains; prints the first broken link, or "intact: N events in M streams checked".
      Exit code 1 when broken; 3 when the log has no stream of that subject.
  export <subject> [--out <file>]
      Everything held about the subject as JSON (docs/rights.md), personal data opened while its key exists.
      Exit code 1 when sealed personal data is unreadable though the subject was never erased.
  retention [--dry-run]
      One run of the proof-retention job (for cron): removes the records whose retention ended, destroys
      their keys, records the run in the stream proof-retention-runs. Exit code 1 when a subject failed.

Of the service's configuration it reads only EVENT_STORE, DATA_DIR, DATABASE_URL, EVENTSTORE_URL, DATABASE_ANSWER_TIMEOUT_SECONDS,
CATALOGUE_FILE (all but verify) and MASTER_KEY (export and retention); not the API's other settings (PORT, NODE_ENV, ...).
With PostgreSQL, a statement PostgreSQL stops answering is given up after DATABASE_ANSWER_TIMEOUT_SECONDS (exit code 3);
one it is working on (a long walk of the log, a wait for another retention run) goes on.
export and retention open only the service's existing key store and master key; the CLI creates no keys.
`;

/** Each command reads the log; help and usage errors do not. */
const AUDIT_COMMANDS: Readonly<Record<string, (args: readonly string[], sources: AuditSources) => Promise<number>>> = {
  async history(args, sources) {
    const { positionals, values } = parse(args, { json: { type: 'boolean' } });
    rejectExtraPositionals('history', positionals, ['<subject>']);
    return historyCommand(subjectOf(positionals), { json: values.json === true }, sources);
  },
  async 'as-of'(args, sources) {
    const { positionals, values } = parse(args, {
      'known-at': { type: 'string' },
      purpose: { type: 'string', multiple: true },
      brand: { type: 'string' },
      channel: { type: 'string' },
      source: { type: 'string' },
      json: { type: 'boolean' },
    });
    rejectExtraPositionals('as-of', positionals, ['<subject>', '<instant>'], 'name a purpose with --purpose <id> (a brand, channel or source with --brand, --channel, --source)');
    return asOfCommand(subjectOf(positionals), positionals[1], {
      knownAt: values['known-at'] as string | undefined,
      purposes: values.purpose as string[] | undefined,
      brand: values.brand as string | undefined,
      channel: values.channel as string | undefined,
      source: values.source as string | undefined,
      json: values.json === true,
    }, sources);
  },
  async verify(args, sources) {
    const { positionals, values } = parse(args, { subject: { type: 'string' } });
    rejectExtraPositionals('verify', positionals, [], 'name a subject with --subject <id>');
    return verifyCommand({ subject: values.subject as string | undefined }, sources);
  },
  async export(args, sources) {
    const { positionals, values } = parse(args, { out: { type: 'string' } });
    rejectExtraPositionals('export', positionals, ['<subject>'], 'name the file with --out <file>');
    return exportCommand(subjectOf(positionals), { out: values.out as string | undefined }, sources);
  },
  async retention(args, sources) {
    const { positionals, values } = parse(args, { 'dry-run': { type: 'boolean' } });
    rejectExtraPositionals('retention', positionals, []);
    return retentionCommand({ dryRun: values['dry-run'] === true }, sources);
  },
};

/** True for the commands `runAudit` runs against the log (not help, not a usage error). */
export const isAuditCommand = (command: string | undefined): boolean => command !== undefined && Object.hasOwn(AUDIT_COMMANDS, command);

/**
 * Runs one audit command; returns the process exit code (0 done, 1 integrity broken or personal
 * data unreadable, 2 usage, 3 nothing to check).
 */
export async function runAudit(argv: readonly string[], sources: AuditSources): Promise<number> {
  const [command, ...rest] = argv;
  if (!isAuditCommand(command)) return answerWithUsage(command, sources);
  try {
    return await AUDIT_COMMANDS[command!](rest, sources);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    sources.stderr.write(`${error.message}\n\n${AUDIT_USAGE}`);
    return 2;
  }
}

/** Help, no command or an unknown one (not an audit command): answered with the usage alone, nothing opened. */
export function answerWithUsage(command: string | undefined, terminal: Pick<AuditSources, 'stdout' | 'stderr'>): number {
  if (command === undefined || command === 'help' || command === '--help') {
    terminal.stdout.write(AUDIT_USAGE);
    return command === undefined ? 2 : 0;
  }
  terminal.stderr.write(`unknown command "${command}"\n\n${AUDIT_USAGE}`);
  return 2;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function parse(args: readonly string[], options: OptionSpec) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A value whose option name was forgotten (`as-of jan T tv-ads` for `--purpose tv-ads`) would
 * otherwise be dropped, and the command answer another question than the one asked.
 */
function rejectExtraPositionals(command: string, positionals: readonly string[], expected: readonly string[], hint?: string): void {
  const extra = positionals.slice(expected.length);
  if (extra.length === 0) return;
  const takes = expected.length === 0 ? 'no positional arguments' : `only ${expected.join(' ')}`;
  throw new UsageError(`unexpected ${extra.map((value) => `"${value}"`).join(' ')}: ${command} takes ${takes}${hint ? `; ${hint}` : ''}`);
}

function subjectOf(positionals: readonly string[]): string {
  const subject = positionals[0];
  if (!subject) throw new UsageError('a <subject> id is needed');
  return subject;
}
