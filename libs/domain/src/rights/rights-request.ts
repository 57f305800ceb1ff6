import { assertNever } from '../ledger/ledger';
import { addDuration, type Duration, earliest, MAX_CLOCK_SKEW_MS } from '../time';
import type { Instant, SubjectId, Touchpoint } from '../vocabulary';
import type { RightsRequestCommand } from './rights-commands';
import type { ExtensionReason, RefusalReason, RightsRequestEvent, RightsRequestKind } from './rights-events';
import { RightsRequestRuleBroken } from './rights-rules';

/** §11.2: "un délai de 30 jours pour répondre", "prolongé de maximum 60 jours". */
export const RESPONSE_TIME: Duration = 'P30D' as Duration;
export const MAX_EXTENSION_DAYS = 60;
const MAX_DETAIL_LENGTH = 200;

export type RightsRequest =
  | { readonly status: 'none' }
  | {
      readonly status: 'open' | 'completed' | 'refused';
      readonly requestId: string;
      readonly subjectId: SubjectId;
      readonly kind: RightsRequestKind;
      readonly touchpoint: Touchpoint;
      readonly receivedAt: Instant;
      /** See `RightsRequestReceived`: what was stated, when it was ahead of our clock. */
      readonly statedReceivedAt?: Instant;
      /** The first deadline: extensions must be decided before it. */
      readonly initialDueAt: Instant;
      readonly dueAt: Instant;
      readonly extendedByDays: number;
      /**
       * Each extension with its grounds, in the order decided, once there is one: the person must
       * be told the reasons for the delay (GDPR art. 12(3)), as they are told a refusal's.
       */
      readonly extensions?: readonly RightsRequestExtension[];
      readonly closedAt?: Instant;
      readonly onTime?: boolean;
      /** The grounds a refused request was refused on: the person was told these. */
      readonly refusal?: { readonly reason: RefusalReason; readonly detail?: string };
    };

export interface RightsRequestExtension {
  readonly byDays: number;
  readonly reason: ExtensionReason;
  readonly detail?: string;
  /** When it was recorded, and by whom (a pseudonymous employee id, or the API client). */
  readonly decidedAt: Instant;
  readonly decidedBy?: string;
  readonly newDueAt: Instant;
}

export const initialRightsRequest = (): RightsRequest => ({ status: 'none' });

export function evolveRightsRequest(request: RightsRequest, event: RightsRequestEvent): RightsRequest {
  switch (event.type) {
    case 'RightsRequestReceived': {
      const { requestId, subjectId, kind, touchpoint, receivedAt, statedReceivedAt, dueAt } = event.data;
      return {
        status: 'open',
        requestId,
        subjectId,
        kind,
        touchpoint,
        receivedAt,
        ...(statedReceivedAt !== undefined && { statedReceivedAt }),
        initialDueAt: dueAt,
        dueAt,
        extendedByDays: 0,
      };
    }
    case 'RightsRequestExtended': {
      if (request.status === 'none') return request;
      const { byDays, reason, detail, newDueAt, capture } = event.data;
      const extension: RightsRequestExtension = {
        byDays,
        reason,
        ...(detail !== undefined && { detail }),
        decidedAt: capture.recordedAt,
        ...(capture.actor.id !== undefined && { decidedBy: capture.actor.id }),
        newDueAt,
      };
      return { ...request, dueAt: newDueAt, extendedByDays: request.extendedByDays + byDays, extensions: [...(request.extensions ?? []), extension] };
    }
    case 'RightsRequestCompleted':
      return request.status === 'none' ? request : { ...request, status: 'completed', closedAt: event.data.completedAt, onTime: event.data.onTime };
    case 'RightsRequestRefused': {
      if (request.status === 'none') return request;
      const { refusedAt, onTime, reason, detail } = event.data;
      return { ...request, status: 'refused', closedAt: refusedAt, onTime, refusal: { reason, ...(detail !== undefined && { detail }) } };
    }
    default:
      return assertNever(event);
  }
}

export const rightsRequestOf = (events: readonly RightsRequestEvent[]): RightsRequest => events.reduce(evolveRightsRequest, initialRightsRequest());

/** Decides a command against the request's history: new events, `[]` for a repeat, or a named rule. */
export function decideRightsRequest(command: RightsRequestCommand, request: RightsRequest): RightsRequestEvent[] {
  const { requestId, capture } = command;
  const now = capture.recordedAt;
  if ('detail' in command.data && (command.data.detail?.length ?? 0) > MAX_DETAIL_LENGTH) throw new RightsRequestRuleBroken('detail-too-long', command);

  if (command.type === 'ReceiveRightsRequest') {
    const { subjectId, kind, touchpoint, receivedAt: stated } = command.data;
    if (request.status !== 'none') {
      // Entered again as first stated, or as recorded (stamped on arrival): the same receipt.
      const isSameReceipt = stated === request.receivedAt || stated === request.statedReceivedAt;
      const same = request.subjectId === subjectId && request.kind === kind && isSameReceipt && request.touchpoint === touchpoint;
      if (same) return [];
      throw new RightsRequestRuleBroken('request-already-received', command);
    }
    if (Date.parse(stated) > Date.parse(now) + MAX_CLOCK_SKEW_MS) throw new RightsRequestRuleBroken('received-in-the-future', command);
    if (stated < '2000-01-01T00:00:00.000Z') throw new RightsRequestRuleBroken('received-before-2000', command);
    // A clerk's clock running a little fast, as the channels' clocks for choices: the request
    // cannot have been received after we recorded it, so it counts (and its 30 days run) from then.
    const receivedAt = earliest(stated, now)!;
    return [
      {
        type: 'RightsRequestReceived',
        data: {
          requestId,
          capture,
          subjectId,
          kind,
          touchpoint,
          receivedAt,
          ...(receivedAt !== stated && { statedReceivedAt: stated }),
          dueAt: addDuration(receivedAt, RESPONSE_TIME),
        },
      },
    ];
  }

  if (request.status === 'none') throw new RightsRequestRuleBroken('unknown-request', command);
  switch (command.type) {
    case 'ExtendRightsRequest': {
      if (request.status !== 'open') throw new RightsRequestRuleBroken('request-already-closed', command);
      const { byDays, reason, detail } = command.data;
      if (!Number.isInteger(byDays) || byDays < 1) throw new RightsRequestRuleBroken('extension-not-positive', command);
      if (request.extendedByDays + byDays > MAX_EXTENSION_DAYS) throw new RightsRequestRuleBroken('extension-beyond-60-days', command);
      if (now > request.initialDueAt) throw new RightsRequestRuleBroken('extension-after-initial-deadline', command);
      const newDueAt = addDuration(request.dueAt, `P${byDays}D` as Duration);
      return [{ type: 'RightsRequestExtended', data: { requestId, capture, byDays, reason, ...(detail !== undefined && { detail }), previousDueAt: request.dueAt, newDueAt } }];
    }
    case 'CompleteRightsRequest':
      if (request.status === 'completed') return [];
      if (request.status === 'refused') throw new RightsRequestRuleBroken('request-already-closed', command);
      return [{ type: 'RightsRequestCompleted', data: { requestId, capture, completedAt: now, onTime: now <= request.dueAt } }];
    case 'RefuseRightsRequest': {
      const { reason, detail } = command.data;
      if (request.status === 'refused') {
        // The person was told the first grounds: another refusal cannot replace them unnoticed.
        if (request.refusal?.reason === reason && request.refusal.detail === detail) return [];
        throw new RightsRequestRuleBroken('request-already-refused', command);
      }
      if (request.status === 'completed') throw new RightsRequestRuleBroken('request-already-closed', command);
      return [{ type: 'RightsRequestRefused', data: { requestId, capture, refusedAt: now, reason, ...(detail !== undefined && { detail }), onTime: now <= request.dueAt } }];
    }
    default:
      return assertNever(command);
  }
}
