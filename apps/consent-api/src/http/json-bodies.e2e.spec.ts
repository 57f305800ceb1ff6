import { commandJson, newSubjectId, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

describe('a body nested deeper than any route takes', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  const brackets = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it.each([
    // 2 MB, within the audience route's body limit: parsing it blocked every other request for a second.
    ['an audience question', '/v1/decisions', TEST_KEYS.reader, brackets(1_000_000)],
    ['a command', '/v1/commands', TEST_KEYS.channel, brackets(10)],
  ])('is refused as %s before it is parsed', async (_, path, key, body) => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const response = await api.call('POST', path, { key, rawBody: body });
      expect([response.status, response.body]).toEqual([400, { error: 'validation-failed', details: [{ field: '[0][0][0][0][0][0][0][0]', message: 'is nested too deeply (at most 8 levels)' }] }]);
      expect(parse).not.toHaveBeenCalledWith(body);
    } finally {
      parse.mockRestore();
    }
  });

  it('leaves shallower nesting to the route, refused with its own limit', async () => {
    const response = await api.call('POST', '/v1/decisions', { key: TEST_KEYS.reader, rawBody: '{"subjectIds":[[["a"]]]}' });
    expect([response.status, response.body]).toEqual([400, { error: 'validation-failed', details: [{ field: 'subjectIds[0][0]', message: 'is nested too deeply (at most 3 levels)' }] }]);
  });
});

describe('a body that is not UTF-8', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  const consentWithContactName = (subjectId: string, name: string) => JSON.stringify(commandJson.giveConsent(subjectId, { contact: { name } }));
  const NOT_UTF8 = { error: 'validation-failed', details: [{ field: 'body', message: 'must be encoded as UTF-8, as JSON is (RFC 8259): it holds bytes that are not, such as text in ISO-8859-1 or Windows-1252' }] };

  // Found in review: a call-centre system writing Latin-1 had "Renée" recorded, sealed, as "Ren\uFFFDe",
  // answered 201; the mangled name was what the person's access request would show them.
  it.each([
    ['labelled application/json', 'application/json'],
    ['labelled with the charset it is in', 'application/json; charset=iso-8859-1'],
  ])('is refused naming the body, and nothing is recorded, %s', async (_, contentType) => {
    const subjectId = newSubjectId('latin-1');
    const response = await api.call('POST', '/v1/commands', {
      rawBody: Buffer.from(consentWithContactName(subjectId, 'Renée'), 'latin1'),
      headers: { 'content-type': contentType },
    });
    expect([response.status, response.body]).toEqual([400, NOT_UTF8]);
    expect((await api.call('GET', `/v1/subjects/${subjectId}/history`)).body.events).toEqual([]);
  });

  it('keeps a name written in UTF-8 as it was written, whatever charset the header names', async () => {
    const subjectId = newSubjectId('utf-8');
    const recorded = await api.call('POST', '/v1/commands', {
      rawBody: Buffer.from(consentWithContactName(subjectId, 'Renée'), 'utf8'),
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    });
    expect(recorded.status).toBe(201);
    expect(JSON.stringify((await api.call('GET', `/v1/subjects/${subjectId}/export`)).body)).toContain('"name":"Renée"');
  });

  it('is refused with a byte order mark in front, which is not JSON, saying so', async () => {
    const response = await api.call('POST', '/v1/commands', { rawBody: `\uFEFF${consentWithContactName(newSubjectId(), 'Jan')}` });
    expect([response.status, response.body]).toEqual([
      400,
      { error: 'validation-failed', details: [{ field: 'body', message: 'must not start with a byte order mark (U+FEFF): send the JSON text alone' }] },
    ]);
  });
});
