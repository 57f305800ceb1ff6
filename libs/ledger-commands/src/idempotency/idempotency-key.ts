import { contactDetailsProblem, identityNumberInKeyProblem } from '../request-fields';

/**
 * The longest idempotency key, over HTTP and on the command topic alike: a channel system that sends
 * the same command either way must be able to use its keys on both (until 2026-11-29 the topic
 * took 200 characters, HTTP 255). 255 because HTTP clients have been sending keys that long, and
 * nothing that keeps the key needs fewer: the idempotency records hold it in a `text` column, and
 * the result topic's message key and `idempotency-key` header take any length.
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Visible ASCII, no spaces: what an HTTP header carries unquoted, and the same bytes in a Kafka header. */
const IDEMPOTENCY_KEY = new RegExp(`^[\\x21-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/**
 * Why a client's idempotency key cannot be taken, or undefined. The key is kept in clear with the
 * events it produced (and travels as their causation-id, the command topic's result key), so one
 * holding contact details is refused like any text kept in clear, and one holding a national
 * register number or an IBAN in a shape no order number takes (`identityNumberInKeyProblem`).
 * Read for identity numbers first: the phone screens take a Dutch IBAN in groups for a phone number.
 */
export function idempotencyKeyProblem(key: string): string | undefined {
  if (!IDEMPOTENCY_KEY.test(key)) return `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces`;
  return identityNumberInKeyProblem(key) ?? contactDetailsProblem(key);
}
