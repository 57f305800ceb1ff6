import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { readJsonBytes } from '@consent-ledger/ledger-commands';
import { MAX_BODY_DEPTH, RequestInvalid } from './request-invalid';

/**
 * Request bodies are JSON in UTF-8 and nothing else (`readJsonBytes`). Parsed with plain
 * `JSON.parse`, which never touches a prototype (a `__proto__` key becomes an ordinary property,
 * refused later by `screenJson` with its path), so a syntax error can be reported with its position
 * instead of Fastify's generic text. A key sent twice in one object is refused, and so is a body
 * nested deeper than any route takes, before it is parsed (both found in one pass, see
 * `readJsonText`); routes refuse shallower nesting of their own after parsing, with `screenJson`.
 * Content of any other type is answered 415 unread, which the error filter turns into a 400
 * naming the body.
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    // Fastify does not decompress: a compressed body would be read as text, a plain one labelled
    // compressed accepted as it is.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      done(new RequestInvalid([{ field: 'headers.content-encoding', message: `must be absent or identity: bodies are not accepted compressed (got ${JSON.stringify(encoding.slice(0, 40))})` }]), undefined);
      return;
    }
    // No content is no body, whatever it is labelled: clients generated from the API document label
    // an operation's requests application/json also when its optional body is left out.
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    const read = readJsonBytes(body as Buffer, MAX_BODY_DEPTH, (error) => `must be valid JSON (${withoutQuotedBody(error.message)})`);
    if ('problem' in read) done(new RequestInvalid([read.problem]), undefined);
    else done(null, read.json);
  });
  // No content is no body under any other label too (api.md): `curl -X POST -d ''` labels it a form,
  // and running proof retention so was refused. Content is refused unread, as before.
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    if (hasNoContent(request)) done(null, undefined);
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(request.headers['content-type']), undefined);
  });
}

const hasNoContent = ({ headers }: FastifyRequest): boolean => headers['content-length'] === '0' && headers['transfer-encoding'] === undefined;

/**
 * The parser's message without the part of the body it may quote: its start (`Unexpected token
 * 'j', "jan.peeter"... is not valid JSON`), or, further in, the text around the error after an
 * ellipsis (`..."email":jan.peeter"...`, found by a channel team: the cut missed that form). A body
 * that is not JSON may be anything, an e-mail address or a justification, and answers repeat no
 * free text. Its position, when given, stays.
 */
function withoutQuotedBody(parserMessage: string): string {
  return parserMessage.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '');
}
