import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { contactDetailsProblem } from '@consent-ledger/ledger-commands';
import { RequestInvalid } from './request-invalid';

/** Printable ASCII, as HTTP headers carry it; long enough for a UUID, a hash or a channel's own composite key. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The `Idempotency-Key` header of a call that records something, or a 400. The key is kept in
 * clear with the events it produced, so one holding contact details is refused like any text kept
 * in clear.
 */
export function idempotencyKeyOrThrow(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw new RequestInvalid([{ field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters without spaces' }]);
  }
  const problem = contactDetailsProblem(header);
  if (problem) throw new RequestInvalid([{ field: 'Idempotency-Key', message: problem }]);
  return header;
}

/** The call's `Idempotency-Key`, checked as `idempotencyKeyOrThrow` checks it, for every route that records something. */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined =>
  idempotencyKeyOrThrow(context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['idempotency-key']),
);
