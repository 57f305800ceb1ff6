import {
  EXTENSION_REASONS,
  type ExtensionReason,
  REFUSAL_REASONS,
  type RefusalReason,
  RIGHTS_REQUEST_KINDS,
  type RightsRequestKind,
  TOUCHPOINTS,
  type Touchpoint,
} from '@consent-ledger/domain';
import { IsInstantText, IsOneOf, IsPseudonymousId, IsText, Optional } from '@consent-ledger/ledger-commands';
import { IsInt, IsOptional, Matches, ValidateBy } from 'class-validator';
import { IsPageCursor, IsPageLimit } from '../http/pages';

/** Who handled it: a pseudonymous employee id; defaults to the calling API client. */
class HandledBy {
  @Optional()
  @IsPseudonymousId()
  handledBy?: string;
}

/** `POST /v1/rights-requests` */
export class ReceiveRightsRequestBody extends HandledBy {
  /** The operator's own ticket id, so entering the same request twice records it once; generated when absent. */
  @Optional()
  @IsPseudonymousId()
  requestId?: string;

  @IsPseudonymousId()
  subjectId!: string;

  @IsOneOf(RIGHTS_REQUEST_KINDS)
  kind!: RightsRequestKind;

  /** Where the person made the request. */
  @IsOneOf(TOUCHPOINTS)
  touchpoint!: Touchpoint;

  /** When every piece of information needed was in hand: the 30 days start then. */
  @IsInstantText()
  receivedAt!: string;
}

/** `POST /v1/rights-requests/{id}/extend` */
export class ExtendRightsRequestBody extends HandledBy {
  @IsInt({ message: 'must be a whole number of days' })
  byDays!: number;

  @IsOneOf(EXTENSION_REASONS)
  reason!: ExtensionReason;

  /** Kept in clear in the request's stream: contact details are refused; names cannot be told from other words, so leave them out. */
  @Optional()
  @IsText({ maxLength: 200, inClear: true })
  detail?: string;
}

/** `POST /v1/rights-requests/{id}/complete` */
export class CompleteRightsRequestBody extends HandledBy {}

/** `POST /v1/rights-requests/{id}/refuse` */
export class RefuseRightsRequestBody extends HandledBy {
  @IsOneOf(REFUSAL_REASONS)
  reason!: RefusalReason;

  /** Kept in clear in the request's stream: contact details are refused; names cannot be told from other words, so leave them out. */
  @Optional()
  @IsText({ maxLength: 200, inClear: true })
  detail?: string;
}

/**
 * Requests per page. A request as listed is about half a kilobyte: the default is a DPO's screen
 * and more (a week's requests at the operator's few thousand a year), the most keeps an answer
 * near half a megabyte however many years of requests the log holds, while a tool that copies
 * every request still needs only a handful of calls a year's worth.
 */
export const RIGHTS_REQUESTS_PER_PAGE = { byDefault: 100, max: 1000 } as const;

/** `GET /v1/rights-requests?dueWithin=P7D&subjectId=&status=&limit=&after=` */
export class ListRightsRequestsQuery {
  /** Open requests due by now plus this ISO-8601 duration in days (`P7D`), overdue ones included. */
  @IsOptional()
  @Matches(/^P\d{1,3}D$/, { message: 'must be a number of days as an ISO-8601 duration, e.g. P7D' })
  dueWithin?: string;

  @IsOptional()
  @IsPseudonymousId()
  subjectId?: string;

  /**
   * Only open requests fall due: with `dueWithin`, another status is refused rather than ignored,
   * so that a question asked wrong is not answered as if it had been asked right.
   */
  @IsOptional()
  @IsOneOf(['open', 'completed', 'refused'])
  @ValidateBy({
    name: 'openWhenDue',
    validator: {
      validate: (status, context) => (context?.object as ListRightsRequestsQuery).dueWithin === undefined || status === 'open',
      defaultMessage: () => 'must be open or left out with dueWithin: only open requests fall due',
    },
  })
  status?: 'open' | 'completed' | 'refused';

  @Optional()
  @IsPageLimit(RIGHTS_REQUESTS_PER_PAGE)
  limit?: string;

  /** The `next` of the page before: the list continues after the last request it held. */
  @Optional()
  @IsPageCursor()
  after?: string;
}
