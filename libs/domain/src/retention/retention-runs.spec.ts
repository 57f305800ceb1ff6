import { instant } from '../testing';
import { type ProofRetentionRunCompleted, recordRemovalOf, removalDetailsOf, removalsOf } from './retention-runs';

const run = (runId: string, removed: string[], dryRun = false): ProofRetentionRunCompleted => ({
  type: 'ProofRetentionRunCompleted',
  data: {
    runId,
    startedAt: instant('2026-11-29T03:00:00Z'),
    finishedAt: instant('2026-11-29T03:00:05Z'),
    catalogueVersion: 'proximus-be-2024-02-27.1',
    dryRun,
    subjectsChecked: 10,
    removed: removed.map((subjectId) => ({ subjectId, removableFrom: instant('2018-01-01T10:00:00Z'), eventsRemoved: 2 })),
    failures: [],
  },
});

describe('removals of a subject recorded by the proof-retention job', () => {
  it('names each run that removed the subject, when, and why it could', () =>
    expect(removalsOf([run('run-1', ['other']), run('run-2', ['ret2', 'other'])], 'ret2')).toEqual([
      { runId: 'run-2', removedAt: '2026-11-29T03:00:00.000Z', removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 2 },
    ]));

  it('leaves out dry runs, which removed nothing', () => expect(removalsOf([run('dry', ['ret2'], true)], 'ret2')).toEqual([]));
});

describe('removals of a subject found from the details the job kept with each', () => {
  const [removed] = run('run-2', ['ret2']).data.removed;

  it('reports a removal from its details exactly as the run that made it reports it', () => {
    const fromDetails = recordRemovalOf(instant('2026-11-29T03:00:00Z'), removalDetailsOf('run-2', removed));

    expect(fromDetails).toEqual(removalsOf([run('run-2', ['ret2'])], 'ret2')[0]);
  });

  it('cannot tell a removal recorded without details, which only the runs tell of', () =>
    expect(recordRemovalOf(instant('2026-11-29T03:00:00Z'), undefined)).toBe('unknown'));

  it('leaves out a removal someone else made', () =>
    expect(recordRemovalOf(instant('2026-11-29T03:00:00Z'), { removedBy: 'operator', ticket: 'OPS-12' })).toBeUndefined());
});
