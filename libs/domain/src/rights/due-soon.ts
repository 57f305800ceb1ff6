import { addDuration, type Duration } from '../time';
import type { Instant } from '../vocabulary';
import type { RightsRequest } from './rights-request';

export type OpenRightsRequest = Exclude<RightsRequest, { status: 'none' }> & { readonly status: 'open' };

export interface DueRightsRequest {
  readonly request: OpenRightsRequest;
  readonly overdue: boolean;
  /** Whole days left until the due date (negative once overdue). */
  readonly daysLeft: number;
}

/** Open requests due by `now` + `within`, the most urgent first, overdue ones included. */
export function rightsRequestsDue(requests: readonly RightsRequest[], now: Instant, within: Duration): DueRightsRequest[] {
  const horizon = addDuration(now, within);
  return requests
    .filter((request): request is OpenRightsRequest => request.status === 'open' && request.dueAt <= horizon)
    .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.requestId < b.requestId ? -1 : 1))
    .map((request) => ({
      request,
      overdue: request.dueAt < now,
      daysLeft: Math.floor((Date.parse(request.dueAt) - Date.parse(now)) / 86_400_000),
    }));
}
