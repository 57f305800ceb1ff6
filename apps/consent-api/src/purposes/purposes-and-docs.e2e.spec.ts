import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandJson, newSubjectId, REPOSITORY_ROOT, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

describe('the catalogue, health and documentation', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  it('serves the purpose catalogue as loaded', async () => {
    const catalogue = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'catalogues', 'proximus.json'), 'utf8'));
    const response = await api.call('GET', '/v1/purposes');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(catalogue);
  });

  it('reports itself live and the store ready, also asked with a cache-buster, with its details to a key', async () => {
    for (const path of ['/health', '/health?_=1700000000']) {
      const anonymous = await api.call('GET', path, { key: null });
      expect([anonymous.status, anonymous.body]).toEqual([200, { status: 'ready' }]);
      const withKey = await api.call('GET', path, { key: TEST_KEYS.reader });
      expect(withKey.status).toBe(200);
      expect(withKey.body).toEqual({
        status: 'ready',
        store: { kind: 'sqlite', ready: true },
        readModels: expect.objectContaining({ upToDate: expect.any(Boolean) }),
        keyScrub: { state: 'done' },
        feeds: [],
        retiredFeeds: [],
      });
    }
  });

  it('documents every route in OpenAPI, with the command shapes generated from their validation', async () => {
    const response = await api.call('GET', '/docs/json', { key: null });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/v1/commands',
        '/v1/decisions',
        '/v1/purposes',
        '/v1/subjects/{subjectId}/decision',
        '/v1/subjects/{subjectId}/history',
        '/v1/subjects/{subjectId}/preferences',
      ]),
    );
    const commands = response.body.paths['/v1/commands'].post.requestBody.content['application/json'].schema.oneOf;
    const giveConsent = commands.find((schema: { properties: { type: { enum: string[] } } }) => schema.properties.type.enum[0] === 'GiveConsent');
    expect(commands).toHaveLength(12);
    expect(giveConsent.required.sort()).toEqual(['capture', 'purpose', 'subjectId', 'type']);
    expect(giveConsent.properties.capture.properties.touchpoint.enum).toContain('tv-menu');
  });

  // Found in review: occurredAt and validUntil had the same example, so the consent an integrator
  // built from the document was refused (validity-ends-before-consent).
  it('gives instants as examples a consent built from them is recorded with', async () => {
    const { body: document } = await api.call('GET', '/docs/json', { key: null });
    const giveConsent = document.paths['/v1/commands'].post.requestBody.content['application/json'].schema.oneOf.find(
      (schema: { properties: { type: { enum: string[] } } }) => schema.properties.type.enum[0] === 'GiveConsent',
    );
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);
    const consent = commandJson.giveConsent(subjectId, {
      validUntil: giveConsent.properties.validUntil.example,
      capture: { occurredAt: giveConsent.properties.capture.properties.occurredAt.example },
    });
    expect((await api.command(consent)).status).toBe(201);
  });

  // Found in review: some routes ignored a query parameter they do not take, so a mistyped
  // question (`?dryrun=true`) was answered as if it had been asked right, or something was run.
  it('refuses a query parameter a route does not take, on every route, before doing anything', async () => {
    const { body: document } = await api.call('GET', '/docs/json', { key: null });
    // Health is asked by load balancers and monitors, some of which add a cache-buster (`?_=…`).
    const calls = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path !== '/health')
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'some-id') })));
    expect(calls.length).toBeGreaterThan(15);
    const before = await api.store.headPosition();
    for (const { method, path } of calls) {
      const response = await api.call(method as 'GET', `${path}?notaparameter=1`, method === 'GET' ? {} : { body: {} });
      expect({ method, path, status: response.status, details: response.body.details }).toEqual({
        method,
        path,
        status: 400,
        details: expect.arrayContaining([{ field: 'notaparameter', message: 'is not a known field' }]),
      });
    }
    expect(await api.store.headPosition()).toBe(before);
  });

  // A client generated from the document must know the answers, errors included, not only the requests.
  it('documents the answers of every route: success bodies, 400, 401 with WWW-Authenticate, 403 and 503, and the query parameters as validated', async () => {
    const { body: document } = await api.call('GET', '/docs/json', { key: null });
    const decision = document.paths['/v1/subjects/{subjectId}/decision'].get;
    const schemaOf = (response: { content: { 'application/json': { schema: { $ref: string } } } }) =>
      document.components.schemas[response.content['application/json'].schema.$ref.replace('#/components/schemas/', '')];

    expect(schemaOf(decision.responses['200']).properties.reason.enum).toEqual(expect.arrayContaining(['consent-active', 'channel-restricted', 'subject-erased']));
    expect(schemaOf(decision.responses['400']).required).toEqual(['error', 'details']);
    expect(decision.responses['401'].headers).toHaveProperty('WWW-Authenticate');
    expect(Object.keys(decision.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '503']));
    const channel = decision.parameters.find((parameter: { name: string }) => parameter.name === 'channel');
    expect(channel).toMatchObject({ in: 'query', required: false, schema: { enum: expect.arrayContaining(['tv-screen', 'email']) } });
    expect(decision.parameters.find((parameter: { name: string }) => parameter.name === 'at').schema).toMatchObject({ format: 'date-time' });

    const commands = document.paths['/v1/commands'].post.responses;
    expect(Object.keys(commands)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409', '422', '503']));
    expect(schemaOf(commands['201']).required).toEqual(['subjectId', 'events']);
    expect(schemaOf(document.paths['/v1/subjects/{subjectId}/preferences'].get.responses['200']).required).toContain('purposes');
    // No key is needed, so never a 403; but a key that is sent must be valid.
    expect(document.paths['/health'].get.responses).not.toHaveProperty('403');
    expect(document.paths['/health'].get.responses['401'].headers).toHaveProperty('WWW-Authenticate');
  });

  it('serves Swagger UI at /docs', async () => {
    const page = await api.call('GET', '/docs', { key: null });
    const script = await api.call('GET', '/docs/assets/swagger-ui-bundle.js', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
    expect(script.status).toBe(200);
  });

  it('does not keep a key pasted into Swagger UI in the browser once the page is closed', async () => {
    const init = await api.call('GET', '/docs/init.js', { key: null });
    expect(init.status).toBe(200);
    expect(init.body).toMatch(/persistAuthorization: false/);
  });

  it('answers 404 with a body of its own for an unknown route', async () => {
    const response = await api.call('GET', '/v2/everything');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not-found', message: 'no such route' });
  });
});
