import { commandJson, newSubjectId, startTestApi, type TestApi } from '../testing/test-api';
import { rawExchange } from '../testing/raw-exchange';
import { iban, inGroupsOfFour, nationalRegisterNumber, withDotsAndDash, withWrongCheck } from '../../../../libs/ledger-commands/src/testing/identity-numbers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Found by operations: a channel system reported "your API answered 503 to my command at 14:02",
// and nothing in the answer or the log tied the two together.
describe('the request id every answer carries', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  it("answers with the caller's own X-Request-Id, on success and on refusal alike", async () => {
    const subjectId = newSubjectId();
    const sent = (id: string) => ({ headers: { 'x-request-id': id } });
    const recorded = await api.command(commandJson.startRelationship(subjectId), sent('tv-menu-4711:0001'));
    const decided = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=newsletter-customers`, sent('f3b2a1c0-0000-4000-8000-000000000001'));
    const refused = await api.command(commandJson.giveConsent(subjectId, { purpose: 'no-such-purpose' }), sent('Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8'));
    const anonymous = await api.call('POST', '/v1/commands', { ...sent('shop-app.req.42'), key: null, body: commandJson.startRelationship(subjectId) });
    const nowhere = await api.call('GET', '/v1/nowhere', sent('call-centre/7'));
    expect([recorded, decided, refused, anonymous, nowhere].map((answer) => [answer.status, answer.headers.get('x-request-id')])).toEqual([
      [201, 'tv-menu-4711:0001'],
      [200, 'f3b2a1c0-0000-4000-8000-000000000001'],
      [400, 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8'],
      [401, 'shop-app.req.42'],
      [404, 'call-centre/7'],
    ]);
  });

  it('gives a request that sent none a new UUID, another for each request', async () => {
    const first = await api.call('GET', '/v1/purposes');
    const second = await api.call('GET', '/health', { key: null });
    const ids = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
    expect(ids).toEqual([expect.stringMatching(UUID), expect.stringMatching(UUID)]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('replaces an id holding an e-mail address or a phone number, which the log would keep in clear, and still records the command', async () => {
    for (const id of ['jan.peeters@example.be', 'call-+32475123456', 'shop-0475/12.34.56']) {
      const answer = await api.command(commandJson.startRelationship(newSubjectId()), { headers: { 'x-request-id': id } });
      expect({ sent: id, status: answer.status, answeredWith: answer.headers.get('x-request-id') }).toEqual({ sent: id, status: 201, answeredWith: expect.stringMatching(UUID) });
    }
  });

  // Found in review: `85073003328` and `BE68539007547034` were kept, and logged as sent.
  it('replaces an id holding a national register number or an IBAN, which the log would keep in clear, and still records the command', async () => {
    const holdingIdentityNumbers = [
      nationalRegisterNumber({ born: '1985-07-30', serial: 33 }),
      `rrn-${withDotsAndDash(nationalRegisterNumber({ born: '2005-03-14', serial: 123 }))}`,
      iban('BE', '539007547034'),
      `sepa:${inGroupsOfFour(iban('NL', 'ABNA0417164300')).replace(/ /g, '-')}`,
    ];
    for (const id of holdingIdentityNumbers) {
      const answer = await api.command(commandJson.startRelationship(newSubjectId()), { headers: { 'x-request-id': id } });
      expect({ sent: id, status: answer.status, answeredWith: answer.headers.get('x-request-id') }).toEqual({ sent: id, status: 201, answeredWith: expect.stringMatching(UUID) });
    }
  });

  it('keeps an id whose digits only look like a national register number or an IBAN, their check digits not holding', async () => {
    for (const id of [withWrongCheck(nationalRegisterNumber({ born: '1985-07-30', serial: 33 })), `order-${withWrongCheck(iban('BE', '539007547034'))}`]) {
      expect((await api.command(commandJson.startRelationship(newSubjectId()), { headers: { 'x-request-id': id } })).headers.get('x-request-id')).toBe(id);
    }
  });

  it('replaces a malformed id with a new UUID and still records the command', async () => {
    // The last: an id sent twice, as Node joins the two.
    const malformed = ['x'.repeat(129), 'has a space', 'café-0001', '', 'sent-twice, sent-twice'];
    for (const id of malformed) {
      const answer = await api.command(commandJson.startRelationship(newSubjectId()), { headers: { 'x-request-id': id } });
      expect({ sent: id, status: answer.status, answeredWith: answer.headers.get('x-request-id') }).toEqual({ sent: id, status: 201, answeredWith: expect.stringMatching(UUID) });
    }
    const longest = 'y'.repeat(128);
    expect((await api.command(commandJson.startRelationship(newSubjectId()), { headers: { 'x-request-id': longest } })).headers.get('x-request-id')).toBe(longest);
  });

  it('carries an id on the answers given before any route runs', async () => {
    const badPath = await api.call('GET', '/v1/subjects/s%ZZ/decision?purpose=security-cctv', { headers: { 'x-request-id': 'bad-path-1' } });
    expect([badPath.status, badPath.headers.get('x-request-id')]).toEqual([400, 'bad-path-1']);
    const malformedHttp = await rawExchange(api.url, 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\x01b\r\n\r\n');
    expect(malformedHttp).toMatch(/^HTTP\/1\.1 400 /);
    expect(/\r\nX-Request-Id: ([^\r]+)\r\n/i.exec(malformedHttp)?.[1]).toMatch(UUID);
  });
});

describe('a 5xx answer', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
    await api.store.close();
  });
  afterAll(() => api.close());

  it('names in its body the request id its header carries, for the caller to quote', async () => {
    const sent = await api.command(commandJson.startRelationship(newSubjectId()), { headers: { 'x-request-id': 'tv-menu-0503' } });
    const generated = await api.call('GET', `/v1/subjects/${newSubjectId()}/decision?purpose=newsletter-customers`);
    expect([sent.status, sent.headers.get('x-request-id'), sent.body]).toEqual([503, 'tv-menu-0503', { error: 'unavailable', message: expect.any(String), requestId: 'tv-menu-0503' }]);
    expect([generated.status, generated.body.requestId]).toEqual([503, generated.headers.get('x-request-id')]);
    expect(generated.body.requestId).toMatch(UUID);
  });
});
