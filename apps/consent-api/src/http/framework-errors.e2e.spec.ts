import { connect } from 'node:net';
import { commandJson, newSubjectId, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';
import { rawExchange } from '../testing/raw-exchange';

describe('requests refused before any route runs', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  it('answers a broken percent-escape in the path like any bad input', async () => {
    const answer = await api.call('GET', '/v1/subjects/s%ZZ/decision?purpose=security-cctv');
    expect([answer.status, answer.body]).toEqual([400, { error: 'validation-failed', details: [{ field: 'path', message: expect.stringMatching(/^must be a valid URL/) }] }]);
  });

  it('answers an over-long id in the path without repeating it', async () => {
    const id = `${newSubjectId()}${'x'.repeat(1100)}`;
    const answer = await api.call('GET', `/v1/subjects/${id}/decision?purpose=security-cctv`);
    expect([answer.status, answer.body]).toEqual([400, { error: 'validation-failed', details: [{ field: 'path', message: expect.stringMatching(/longer than 1024/) }] }]);
    expect(JSON.stringify(answer.body)).not.toContain('xxxxxxxxxx');
  });

  it('answers a control character in a header like any bad input', async () => {
    const answer = await rawExchange(
      api.url,
      `POST /v1/commands HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TEST_KEYS.admin}\r\nIdempotency-Key: a\x01b\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: 'validation-failed',
      details: [{ field: 'headers', message: expect.stringMatching(/^must be valid HTTP/) }],
    });
  });
});

describe('a method the path does not answer', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  it.each([
    ['DELETE', '/v1/commands', 'POST'],
    ['GET', '/v1/commands', 'POST'],
    ['PUT', '/v1/decisions', 'POST'],
    ['POST', '/v1/subjects/subject-1/decision?purpose=security-cctv', 'GET, HEAD'],
    ['PATCH', '/v1/purposes', 'GET, HEAD'],
  ])('answers %s %s with 405 and the methods it does answer', async (method, path, allowed) => {
    const answer = await api.call(method, path, { ...(method !== 'GET' && { body: {} }) });
    expect([answer.status, answer.headers.get('allow'), answer.body]).toEqual([
      405,
      allowed,
      { error: 'method-not-allowed', message: `this path answers ${allowed} only` },
    ]);
  });

  // Found in review: GET and HEAD reach routing without a key, so they learned that a path exists.
  it.each([
    ['GET', '/v1/commands'],
    ['HEAD', '/v1/decisions'],
  ])('answers %s %s without a key with 401, naming no method', async (method, path) => {
    const answer = await api.call(method, path, { key: null });
    expect([answer.status, answer.headers.get('allow'), answer.headers.get('www-authenticate')]).toEqual([401, null, 'Bearer']);
  });

  it('still answers 404 for a path no method answers', async () => {
    const answer = await api.call('DELETE', '/v1/everything', { body: {} });
    expect([answer.status, answer.headers.get('allow'), answer.body]).toEqual([404, null, { error: 'not-found', message: 'no such route' }]);
  });

  it('still answers 404 for a request target that is not a path, whatever the method', async () => {
    const answer = await rawExchange(api.url, `GET http://localhost/v1/commands HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TEST_KEYS.admin}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answer).not.toMatch(/^allow:/im);
  });

  it('still answers 404 for a thing missing behind a route that answers the method', async () => {
    const answer = await api.call('GET', `/v1/subjects/${newSubjectId()}/receipts/00000000-0000-4000-8000-000000000000`);
    expect([answer.status, answer.headers.get('allow')]).toEqual([404, null]);
  });
});

describe('a request that arrives while the service shuts down', () => {
  // A keep-alive connection busy with one request when shutdown begins: the request pipelined
  // behind it arrives once the service is closing, and is turned away like any other moment the
  // service cannot answer (the load balancer sends its retry to another instance).
  it('is answered 503 with Retry-After, in the shape of every other refusal, and the request before it completes', async () => {
    const api = await startTestApi('sqlite');
    const { hostname, port } = new URL(api.url);
    const command = JSON.stringify(commandJson.startRelationship(newSubjectId()));
    const head = (length: number) =>
      `POST /v1/commands HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TEST_KEYS.admin}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    // The first request's head and half its body: it has reached its route when shutdown begins.
    socket.write(head(Buffer.byteLength(command)) + command.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closing = api.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.write(command.slice(10) + head(Buffer.byteLength(command)) + command);
    await Promise.all([closed, closing]);

    const responses = answer.split(/(?=HTTP\/1\.1 )/);
    expect(responses.map((response) => response.slice(0, 12))).toEqual(['HTTP/1.1 201', 'HTTP/1.1 503']);
    expect(responses[1]).toMatch(/\r\nretry-after: \d+\r\n/i);
    const requestId = /\r\nx-request-id: ([^\r]+)\r\n/i.exec(responses[1])?.[1];
    expect(requestId).toEqual(expect.any(String));
    expect(JSON.parse(responses[1].slice(responses[1].indexOf('\r\n\r\n') + 4))).toEqual({ error: 'unavailable', message: expect.stringMatching(/shutting down/), requestId });
  });
});
