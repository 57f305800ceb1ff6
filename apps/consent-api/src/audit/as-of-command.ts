import { asOfAnswer, type Brand, type Channel, type DataSource, isBrand, isChannel, isDataSource } from '@consent-ledger/domain';
import { readSubjectRecord } from '../subject-export/subject-record';
import { type AuditSources, brokenChainOf, instantArgument, UsageError, yesNo } from './audit-io';

export interface AsOfOptions {
  readonly knownAt?: string;
  readonly purposes?: readonly string[];
  readonly brand?: string;
  readonly channel?: string;
  readonly source?: string;
  readonly json?: boolean;
}

/** `as-of <subject> <instant> [--known-at T2] [--purpose p]...`: what was allowed then, why, and on which recorded choices. */
export async function asOfCommand(subjectId: string, at: string | undefined, options: AsOfOptions, sources: AuditSources): Promise<number> {
  const instant = instantArgument('<instant>', at);
  const knownAt = options.knownAt === undefined ? undefined : instantArgument('--known-at', options.knownAt);
  const unknown = (options.purposes ?? []).filter((purpose) => !sources.catalogue.purposes.has(purpose));
  if (unknown.length > 0) throw new UsageError(`not a purpose of the catalogue: ${unknown.join(', ')}`);
  const brand = optionOf<Brand>('--brand', options.brand, isBrand);
  const channel = optionOf<Channel>('--channel', options.channel, isChannel);
  const source = optionOf<DataSource>('--source', options.source, isDataSource);

  const record = await readSubjectRecord(sources.store, subjectId);
  const broken = await brokenChainOf(sources, record.streamName);
  const code = broken ? 1 : 0;
  const answer = asOfAnswer(record.history, sources.catalogue, {
    at: instant,
    ...(knownAt !== undefined && { knownAt }),
    ...(options.purposes?.length && { purposes: options.purposes }),
    ...(brand && { brand }),
    ...(channel && { channel }),
    ...(source && { source }),
  });
  if (options.json) {
    sources.stdout.write(`${JSON.stringify({ subjectId, ...answer, ...(broken && { integrity: { intact: false, firstBreak: { ...broken, position: broken.position?.toString() } } }) }, null, 2)}\n`);
    return code;
  }
  const knowledge = answer.knownAt
    ? `as the system knew it at ${answer.knownAt}: ${answer.eventsConsidered} choices known${answer.eventsRecordedLater.length ? `, not yet known: ${answer.eventsRecordedLater.join(', ')}` : ''}`
    : `with everything recorded since: ${answer.eventsConsidered} choices expressed by then`;
  const scope = [answer.brand, answer.channel, answer.source].filter(Boolean).join(', ');
  const lines = [`Subject ${subjectId} at ${answer.at} (${scope}), ${knowledge}.`, ''];
  for (const purpose of answer.purposes) {
    const until = purpose.validUntil ? ` until ${purpose.validUntil}` : '';
    const channels = purpose.allowed && purpose.channels ? `, on ${purpose.channels.join(', ')}` : '';
    const sources = purpose.allowed && purpose.sources ? `, using ${purpose.sources.join(', ')}` : '';
    lines.push(`${yesNo(purpose.allowed)}  ${purpose.purpose}: ${purpose.reason} (${purpose.legalBasis})${until}${channels}${sources}`);
    for (const event of purpose.decidedBy) {
      lines.push(`           because of ${event.decision} ${event.eventId} (revision ${event.revision}), occurred ${event.occurredAt} via ${event.touchpoint}, recorded ${event.recordedAt}`);
    }
  }
  sources.stdout.write(`${lines.join('\n')}\n`);
  return code;
}

function optionOf<T extends string>(name: string, value: string | undefined, is: (value: unknown) => value is T): T | undefined {
  if (value === undefined) return undefined;
  if (!is(value)) throw new UsageError(`${name} "${value}" is not one the catalogue knows`);
  return value;
}
