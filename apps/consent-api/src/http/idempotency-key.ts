import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { idempotencyKeyProblem } from '@consent-ledger/ledger-commands';
import { RequestInvalid } from './request-invalid';

/** The `Idempotency-Key` header of a call that records something, or a 400: the command topic's rule for its header. */
export function idempotencyKeyOrThrow(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const problem = idempotencyKeyProblem(header);
  if (problem) throw new RequestInvalid([{ field: 'Idempotency-Key', message: problem }]);
  return header;
}

/** The call's `Idempotency-Key`, checked as `idempotencyKeyOrThrow` checks it, for every route that records something. */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined =>
  idempotencyKeyOrThrow(context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['idempotency-key']),
);
