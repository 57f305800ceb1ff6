import { instant } from '../testing';
import { type ProofRetentionRunCompleted, removalsOf } from './retention-runs';

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
