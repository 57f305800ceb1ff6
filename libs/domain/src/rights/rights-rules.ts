import type { RightsRequestCommand } from './rights-commands';

/** Every rule a rights-request command can break, by name; tests assert the name. */
export const RIGHTS_REQUEST_RULES = {
  'request-already-received': 'a request with this id was already received with other details',
  'unknown-request': 'no request with this id was received',
  'request-already-closed': 'the request was already completed or refused',
  'request-already-refused': 'the request was already refused on another ground or with another detail; the first refusal stands',
  'extension-beyond-60-days': 'the response time can be extended by 60 days at most, in total',
  'extension-after-initial-deadline': 'an extension must be decided, and the person told, within the initial 30 days',
  'extension-not-positive': 'an extension is a whole number of days, at least one',
  'received-in-the-future': 'a request cannot be received after it is recorded: more than 5 minutes ahead of our clock is a clock that is wrong',
  'received-before-2000': 'a request received before 2000 is a clock that was reset (to 1970)',
  'detail-too-long': 'a detail is a short note, without personal data',
} as const;

export type RightsRequestRule = keyof typeof RIGHTS_REQUEST_RULES;

export class RightsRequestRuleBroken extends Error {
  constructor(
    readonly rule: RightsRequestRule,
    readonly command: Pick<RightsRequestCommand, 'type' | 'requestId'>,
  ) {
    super(RIGHTS_REQUEST_RULES[rule]);
    this.name = 'RightsRequestRuleBroken';
  }
}
