import { randomUUID } from 'node:crypto';
import { createInMemoryEventStore } from './in-memory/in-memory-event-store';
import { streamNamePages, StreamNameWalk, toStreamNameRange } from './stream-name-range';

const nothingRemoved = () => false;
const page = (after: string | undefined, limit = 2) => toStreamNameRange({ prefix: 'consent-ledger-', after, limit });

// KurrentDB finds names by scanning the whole log: a walk through a million subjects a thousand at
// a time would scan it a thousand times.
describe('a walk through stream names found by one scan', () => {
  it('gives every name once, a page at a time, in name order, from the one scan', () => {
    const walk = new StreamNameWalk();
    const first = walk.start(page(undefined), ['consent-ledger-c', 'consent-ledger-a', 'consent-ledger-b'], nothingRemoved);

    expect(first).toEqual(['consent-ledger-a', 'consent-ledger-b']);
    expect(walk.continued(page('consent-ledger-b'), nothingRemoved)).toEqual(['consent-ledger-c']);
  });

  it('lets go of its names once it gave the last page: a page asked after it later needs a new scan, which sees streams begun since', () => {
    const walk = new StreamNameWalk();
    walk.start(page(undefined), ['consent-ledger-a', 'consent-ledger-b', 'consent-ledger-c'], nothingRemoved);
    expect(walk.continued(page('consent-ledger-b'), nothingRemoved)).toEqual(['consent-ledger-c']);

    expect(walk.continued(page('consent-ledger-c'), nothingRemoved)).toBeUndefined();
    expect(walk.continued(page('consent-ledger-a'), nothingRemoved)).toBeUndefined();
  });

  it('leaves out a stream removed since the scan, and still fills the page', () => {
    const walk = new StreamNameWalk();
    walk.start(page(undefined), ['consent-ledger-a', 'consent-ledger-b', 'consent-ledger-c', 'consent-ledger-d'], nothingRemoved);

    expect(walk.continued(page('consent-ledger-a'), (name) => name === 'consent-ledger-b')).toEqual(['consent-ledger-c', 'consent-ledger-d']);
  });

  it('starts a walk at a page asked after a name it does not hold, from the next name', () => {
    const walk = new StreamNameWalk();

    expect(walk.start(page('consent-ledger-b'), ['consent-ledger-a', 'consent-ledger-c', 'consent-ledger-d', 'consent-ledger-e'], nothingRemoved)).toEqual([
      'consent-ledger-c',
      'consent-ledger-d',
    ]);
    expect(walk.continued(page('consent-ledger-d'), nothingRemoved)).toEqual(['consent-ledger-e']);
  });

  it('cannot continue a page it did not give, nor a walk of another prefix: those need a scan', () => {
    const walk = new StreamNameWalk();
    walk.start(page(undefined), ['consent-ledger-a', 'consent-ledger-c'], nothingRemoved);

    expect(walk.continued(page('consent-ledger-b'), nothingRemoved)).toBeUndefined();
    expect(walk.continued(toStreamNameRange({ prefix: 'rights-request-', after: 'consent-ledger-a', limit: 2 }), nothingRemoved)).toBeUndefined();
    expect(new StreamNameWalk().continued(page('consent-ledger-a'), nothingRemoved)).toBeUndefined();
  });
});

describe('walking every stream name of a prefix a page at a time', () => {
  it('gives every page until one comes back short, each asked after the last name of the one before', async () => {
    const store = createInMemoryEventStore();
    for (const name of ['consent-ledger-a', 'consent-ledger-b', 'consent-ledger-c', 'rights-request-1']) {
      await store.append(name, [{ eventId: randomUUID(), type: 'Noted', schemaVersion: 1, data: {}, metadata: {} }], { expectedRevision: 'no-stream' });
    }

    const pages: string[][] = [];
    for await (const names of streamNamePages(store, 'consent-ledger-', 2)) pages.push(names);

    expect(pages).toEqual([['consent-ledger-a', 'consent-ledger-b'], ['consent-ledger-c']]);
  });
});
