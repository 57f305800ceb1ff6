import { auditorTimeline, type DecisionSummary, type TimelineStep } from '@consent-ledger/domain';
import { readSubjectRecord, recordRemovalsOf } from '../subject-export/subject-record';
import { type AuditSources, brokenChainOf, durationText, yesNo } from './audit-io';

/**
 * `history <subject> [--json]`: the subject's events as a readable timeline, with decisions as
 * chosen and as known then. Exit code 3 when the log holds nothing of the subject because the
 * proof-retention job removed its record (a subject never recorded has no events, exit 0).
 */
export async function historyCommand(subjectId: string, options: { json?: boolean }, sources: AuditSources): Promise<number> {
  const record = await readSubjectRecord(sources.store, subjectId);
  const removals = await recordRemovalsOf(sources.store, subjectId);
  const isRemoved = record.history.length === 0 && removals.length > 0;
  const broken = record.history.length > 0 ? await brokenChainOf(sources, record.streamName) : undefined;
  const timeline = auditorTimeline(record.history, sources.catalogue);
  if (options.json) {
    const integrity = broken && { intact: false, firstBreak: { ...broken, position: broken.position?.toString() } };
    sources.stdout.write(`${JSON.stringify({ subjectId, streamName: record.streamName, steps: timeline, ...(removals.length > 0 && { removals }), ...(integrity && { integrity }) }, null, 2)}\n`);
    return isRemoved ? 3 : broken ? 1 : 0;
  }
  if (isRemoved) {
    const last = removals[removals.length - 1];
    sources.stdout.write(
      `No events for subject ${subjectId}: its record was removed under proof retention on ${last.removedAt} ` +
        `(run ${last.runId}, ${last.eventsRemoved} events, retention ended ${last.removableFrom})` +
        `${removals.length > 1 ? `, after ${removals.length - 1} earlier removal(s)` : ''}. npm run audit -- export ${subjectId} lists every removal.\n`,
    );
    return 3;
  }
  if (record.history.length === 0) {
    sources.stdout.write(`No events for subject ${subjectId} (stream ${record.streamName}).\n`);
    return 0;
  }
  const lines = [
    `Subject ${subjectId}: ${record.history.length} events in ${record.streamName} (catalogue ${sources.catalogue.definition.catalogueVersion})`,
    'Decisions after each event: as the person had chosen (all evidence known today), and as the system knew it then where that differs.',
    '',
  ];
  timeline.forEach((step, index) => lines.push(...stepLines(step, record.history[index].chain.position, record.history[index].chain.hash)));
  sources.stdout.write(`${lines.join('\n')}\n`);
  return broken ? 1 : 0;
}

function stepLines(step: TimelineStep, position: string, hash: string): string[] {
  const actor = step.actor.id ? `${step.actor.kind} ${step.actor.id}` : step.actor.kind;
  const marker = [step.late ? `LATE by ${durationText(step.lateByMs)}` : '', step.outOfOrder ? 'OUT OF ORDER' : ''].filter(Boolean).join(', ');
  const lines = [
    `#${step.revision}  occurred ${step.occurredAt}  recorded ${step.recordedAt}  ${step.touchpoint}  by ${actor}${marker ? `  [${marker}]` : ''}`,
    `    ${step.decision}: ${step.change}`,
    `    event ${step.eventId}  position ${position}  hash ${hash.slice(0, 16)}…`,
  ];
  // Purposes with the same answers share a line: a relationship can open twenty purposes at once.
  const groups = new Map<string, string[]>();
  for (const purpose of step.purposes) {
    const answer = purpose.differs ? `as chosen ${summary(purpose.asChosen)}, as known then ${summary(purpose.asKnown)}  <- differs` : summary(purpose.asChosen);
    groups.set(answer, [...(groups.get(answer) ?? []), purpose.purpose]);
    if (purpose.whenExpressed) {
      const { asChosen, asKnown } = purpose.whenExpressed;
      const note = asChosen.allowed !== asKnown.allowed || asChosen.reason !== asKnown.reason ? '  <- the system did not know yet' : '';
      const when = `when expressed (${step.occurredAt}): as chosen ${summary(asChosen)}, as known then ${summary(asKnown)}${note}`;
      groups.set(when, [...(groups.get(when) ?? []), purpose.purpose]);
    }
  }
  for (const [answer, purposes] of groups) lines.push(`    ${answer}: ${purposes.join(', ')}`);
  lines.push('');
  return lines;
}

const summary = (decision: DecisionSummary) => `${yesNo(decision.allowed).trim()} (${decision.reason})`;
