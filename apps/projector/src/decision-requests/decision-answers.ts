import { type Catalogue, type Decision, decisionForOneSubject, type Instant, toInstant } from '@consent-ledger/domain';
import {
  BODY,
  describeRefusedName,
  type FieldProblem,
  isStorageUnavailable,
  ledgerOfStreamAsOf,
  type ReadJson,
  readJsonText,
  screenJson,
  type SubjectStreams,
  validateRequest,
} from '@consent-ledger/ledger-commands';
import { DecisionRequest } from './decision-request';

/** A question is one flat object. */
const QUESTION_DEPTH = 2;

/** The reply: the HTTP endpoint's 200 body, or its 400 / 503 error body. */
export type DecisionReply =
  | Decision
  | { readonly error: 'validation-failed'; readonly details: readonly FieldProblem[] }
  | { readonly error: 'unavailable'; readonly message: string };

/**
 * Answers decision questions from the subject's stream, read through to the store's latest event
 * (as the HTTP endpoint does): an answer never lags behind an acknowledged command, whatever the
 * read models' checkpoint.
 */
export class DecisionAnswers {
  constructor(
    private readonly streams: SubjectStreams,
    private readonly catalogue: Catalogue,
    private readonly now: () => Instant,
  ) {}

  /** `value`: the message as sent, read here as the HTTP API reads a body. */
  async answer(value: Buffer | string | null): Promise<DecisionReply> {
    const read = readQuestion(value);
    if ('problem' in read) return { error: 'validation-failed', details: [read.problem] };
    const { json } = read;
    const screened = screenJson(json, { maxDepth: QUESTION_DEPTH, maxValues: 20 });
    const validated = screened.length > 0 ? { errors: screened } : validateRequest(DecisionRequest, json);
    if (validated.errors) return { error: 'validation-failed', details: validated.errors };
    const { subjectId, purpose, channel, source, brand, at, knownAt } = validated.value;
    if (!this.catalogue.purposes.has(purpose)) {
      return { error: 'validation-failed', details: [{ field: 'purpose', message: `is not a purpose of the catalogue (got ${describeRefusedName(purpose)})` }] };
    }
    const question = {
      purpose,
      ...(channel !== undefined && { channel }),
      ...(source !== undefined && { source }),
      ...(brand !== undefined && { brand }),
      at: at === undefined ? this.now() : (toInstant(at) as Instant),
      ...(knownAt !== undefined && { knownAt: toInstant(knownAt) as Instant }),
    };
    try {
      const stream = await this.streams.read(subjectId);
      return decisionForOneSubject(ledgerOfStreamAsOf(stream, question), this.catalogue, question);
    } catch (error) {
      if (!isStorageUnavailable(error)) throw error;
      return { error: 'unavailable', message: 'the ledger storage is unavailable; ask again later' };
    }
  }
}

/**
 * The question's JSON, or why it has none. Read from the text: a field sent twice is refused, as
 * over HTTP and on the command topic, since JSON.parse keeps the last value silently while a
 * gateway or a log reader may take the first; and brackets nested thousands deep are refused
 * before anything parses them.
 */
function readQuestion(value: Buffer | string | null): ReadJson {
  const text = value === null ? '' : value.toString();
  if (text.length === 0) return { problem: { field: BODY, message: 'is empty: expected the question as JSON' } };
  return readJsonText(text, QUESTION_DEPTH);
}
