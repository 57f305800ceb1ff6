import { instant } from '../testing';
import {
  interruptedRunOf,
  isRunRecorded,
  mayForgetDestroyedKeyOf,
  type ProofRetentionRemovalsDecided,
  type ProofRetentionRunCompleted,
  type RecordRemoval,
  recordRemovalOf,
  removalDetailsOf,
  removalsOf,
} from './retention-runs';

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

describe('a run stopped part-way, recorded by a later run', () => {
  const decided: ProofRetentionRemovalsDecided = {
    type: 'ProofRetentionRemovalsDecided',
    data: {
      runId: 'stopped',
      startedAt: instant('2026-11-29T03:00:00Z'),
      catalogueVersion: 'proximus-be-2024-02-27.1',
      due: ['ret1', 'ret2', 'ret3'].map((subjectId) => ({ subjectId, removableFrom: instant('2018-01-01T10:00:00Z'), eventsRemoved: 2 })),
    },
  };
  /** What the store's removal records say, by subject. */
  const storeRecords = (bySubject: Record<string, RecordRemoval[]>) => (subjectId: string) => bySubject[subjectId] ?? [];
  const removalBy = (runId: string, eventsRemoved = 2): RecordRemoval => ({
    runId,
    removedAt: instant('2026-11-29T03:00:00Z'),
    removableFrom: instant('2018-01-01T10:00:00Z'),
    eventsRemoved,
  });
  const recordedBy = { runId: 'next', at: instant('2026-11-30T03:00:00Z') };

  it('names the records the store says the stopped run removed, as the store recorded them, and no other it had decided on', () =>
    expect(interruptedRunOf(decided, storeRecords({ ret1: [removalBy('stopped', 3)], ret2: [removalBy('stopped')] }), recordedBy)).toEqual({
      type: 'ProofRetentionRunInterrupted',
      data: {
        runId: 'stopped',
        startedAt: '2026-11-29T03:00:00.000Z',
        catalogueVersion: 'proximus-be-2024-02-27.1',
        interrupted: true,
        removed: [
          { subjectId: 'ret1', removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 3 },
          { subjectId: 'ret2', removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 2 },
        ],
        recordedAt: '2026-11-30T03:00:00.000Z',
        recordedBy: 'next',
      },
    }));

  it("leaves out a subject's removal by another run", () =>
    expect(interruptedRunOf(decided, storeRecords({ ret3: [removalBy('earlier')] }), recordedBy).data.removed).toEqual([]));

  it('tells the subject\'s removals with the runs that made them, the stopped one included', () => {
    const stopped = interruptedRunOf(decided, storeRecords({ ret2: [removalBy('stopped')] }), recordedBy);
    expect(removalsOf([run('earlier', ['ret2']), stopped], 'ret2').map((removal) => removal.runId)).toEqual(['earlier', 'stopped']);
  });

  it('counts the stopped run as recorded once a later run recorded it, as a completed run is', () => {
    const stopped = interruptedRunOf(decided, storeRecords({}), recordedBy);
    expect([isRunRecorded([stopped], 'stopped'), isRunRecorded([run('stopped', [])], 'stopped'), isRunRecorded([run('other', [])], 'stopped')]).toEqual([true, true, false]);
  });

  it('names the erased subjects it removed as any other, the decision marking them or not', () => {
    const withErased: ProofRetentionRemovalsDecided = {
      ...decided,
      data: { ...decided.data, due: decided.data.due.map((removal) => (removal.subjectId === 'ret3' ? removal : { ...removal, erased: true as const })) },
    };
    const stopped = interruptedRunOf(withErased, storeRecords({ ret1: [removalBy('stopped')], ret3: [removalBy('stopped')] }), recordedBy);
    expect(stopped.data.removed).toEqual([
      { subjectId: 'ret1', removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 2 },
      { subjectId: 'ret3', removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 2 },
    ]);
  });
});

describe("the key store's record of a destroyed key, left by a run stopped part-way after a removal", () => {
  it('may be forgotten once the erased record is gone', () => expect(mayForgetDestroyedKeyOf([])).toBe(true));

  it('may be forgotten for a person given the id since, who was not erased', () =>
    expect(mayForgetDestroyedKeyOf([{ type: 'ConsentGiven' }, { type: 'ChannelRestricted' }])).toBe(true));

  it('stays for a person given the id since and erased in turn', () =>
    expect(mayForgetDestroyedKeyOf([{ type: 'ConsentGiven' }, { type: 'SubjectErased' }])).toBe(false));
});
