import { AppendOutcomeUnknown, EventStoreUnavailable } from '@consent-ledger/event-store';
import { commandFailureOf, isStorageUnavailable } from './command-failures';

describe('the failure a storage error means for the channel', () => {
  it('is a 503 saying the command may have been recorded when its append was sent and not confirmed', () => {
    const failure = commandFailureOf(new AppendOutcomeUnknown('PostgreSQL did not answer an append in time', new Error('Query read timeout')));

    expect(failure).toEqual({ status: 503, body: { error: 'unavailable', message: expect.stringContaining('may have been recorded') }, retryAfterSeconds: expect.any(Number) });
    expect(failure!.body).not.toMatchObject({ message: expect.stringContaining('nothing was recorded') });
  });

  it('is a 503 saying nothing was recorded when the store could not be reached', () => {
    expect(commandFailureOf(new EventStoreUnavailable('cannot reach PostgreSQL'))).toMatchObject({ status: 503, body: { message: expect.stringContaining('nothing was recorded') } });
  });

  it("takes node-postgres's answer timeout (a statement lost in a network cut) as storage unavailable", () => {
    expect(isStorageUnavailable(new Error('Query read timeout'))).toBe(true);
  });
});
