import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT, startTestApi, type TestApi } from '../testing/test-api';

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

  it('reports itself live and the store ready', async () => {
    const response = await api.call('GET', '/health', { key: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', store: { kind: 'sqlite', ready: true } });
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

  it('serves Swagger UI at /docs', async () => {
    const page = await api.call('GET', '/docs', { key: null });
    const script = await api.call('GET', '/docs/assets/swagger-ui-bundle.js', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
    expect(script.status).toBe(200);
  });

  it('answers 404 with a body of its own for an unknown route', async () => {
    const response = await api.call('GET', '/v2/everything');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not-found', message: 'no such route' });
  });
});
