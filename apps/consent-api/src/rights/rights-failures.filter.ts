import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { RIGHTS_REQUEST_RULES, RightsRequestRuleBroken, type RightsRequestRule } from '@consent-ledger/domain';
import type { FastifyReply } from 'fastify';

/** A request id nobody used is not found; reusing or closing twice conflicts; any other rule is unprocessable. */
const STATUS: Partial<Record<RightsRequestRule, number>> = {
  'unknown-request': 404,
  'request-already-received': 409,
  'request-already-closed': 409,
  'request-already-refused': 409,
};

/** Rights-request rules as responses: `{ error: <rule name>, message }`, like the ledger's own rules. */
@Catch(RightsRequestRuleBroken)
export class RightsFailuresFilter implements ExceptionFilter<RightsRequestRuleBroken> {
  catch(error: RightsRequestRuleBroken, host: ArgumentsHost): void {
    void host
      .switchToHttp()
      .getResponse<FastifyReply>()
      .status(STATUS[error.rule] ?? 422)
      .send({ error: error.rule, message: RIGHTS_REQUEST_RULES[error.rule] });
  }
}
