import { startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

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
