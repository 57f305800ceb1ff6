import type { Instant, SubjectId } from '../../vocabulary';
import type { CompleteRightsRequest, ExtendRightsRequest, ReceiveRightsRequest, RefuseRightsRequest, RightsRequestCommand } from '../rights-commands';
import type { RightsCapture, RightsRequestEvent } from '../rights-events';
import { decideRightsRequest, rightsRequestOf } from '../rights-request';
import { RightsRequestRuleBroken, type RightsRequestRule } from '../rights-rules';

/** A DPO clerk recording an access request that arrived complete on 1 March 2024 by e-mail. */
export const REQUEST = 'request-1';
export const RECEIVED = '2024-03-01T10:00:00.000Z' as Instant;

const iso = (text: string) => new Date(text).toISOString() as Instant;
const captureAt = (recordedAt: string): RightsCapture => ({ actor: { kind: 'agent', id: 'dpo-clerk-4' }, recordedAt: iso(recordedAt) });

export const receiveRequest = (overrides: Partial<ReceiveRightsRequest['data']> & { at?: string } = {}): ReceiveRightsRequest => {
  const { at = overrides.receivedAt ?? RECEIVED, ...data } = overrides;
  return {
    type: 'ReceiveRightsRequest',
    requestId: REQUEST,
    capture: captureAt(at),
    data: { subjectId: 'subject-1' as SubjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt: RECEIVED, ...data },
  };
};
export const extendRequest = (overrides: Partial<ExtendRightsRequest['data']> & { at?: string } = {}): ExtendRightsRequest => {
  const { at = '2024-03-20T10:00:00Z', ...data } = overrides;
  return { type: 'ExtendRightsRequest', requestId: REQUEST, capture: captureAt(at), data: { byDays: 30, reason: 'complexity', ...data } };
};
export const completeRequest = (at = '2024-03-25T10:00:00Z'): CompleteRightsRequest => ({ type: 'CompleteRightsRequest', requestId: REQUEST, capture: captureAt(at), data: {} });
export const refuseRequest = (overrides: Partial<RefuseRightsRequest['data']> & { at?: string } = {}): RefuseRightsRequest => {
  const { at = '2024-03-25T10:00:00Z', ...data } = overrides;
  return { type: 'RefuseRightsRequest', requestId: REQUEST, capture: captureAt(at), data: { reason: 'identity-not-verified', ...data } };
};

/** The events the commands above decide, so a test can state its past as facts. */
export const requestReceived = (overrides: Partial<ReceiveRightsRequest['data']> & { at?: string } = {}) => happened(receiveRequest(overrides), []);
export const requestExtended = (past: RightsRequestEvent[], overrides: Partial<ExtendRightsRequest['data']> & { at?: string } = {}) =>
  happened(extendRequest(overrides), past);
export const requestCompleted = (past: RightsRequestEvent[], at?: string) => happened(completeRequest(at), past);
export const requestRefused = (past: RightsRequestEvent[], overrides: Partial<RefuseRightsRequest['data']> & { at?: string } = {}) =>
  happened(refuseRequest(overrides), past);

function happened(command: RightsRequestCommand, past: RightsRequestEvent[]): RightsRequestEvent {
  return decideRightsRequest(command, rightsRequestOf(past))[0];
}

/** Given past facts, when a command, then new facts, nothing, or a named rule. */
export function givenRequest(...past: RightsRequestEvent[]) {
  const request = rightsRequestOf(past);
  return {
    request,
    when(command: RightsRequestCommand) {
      const run = () => decideRightsRequest(command, request);
      return {
        then(...expected: RightsRequestEvent[]) {
          expect(run()).toEqual(expected);
        },
        thenNothingHappened() {
          expect(run()).toEqual([]);
        },
        thenRejected(rule: RightsRequestRule) {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(RightsRequestRuleBroken);
          expect((thrown as RightsRequestRuleBroken).rule).toBe(rule);
        },
      };
    },
  };
}
