import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { withResponses } from './api-schemas';

const SWAGGER_UI_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'application/javascript',
  'swagger-ui-standalone-preset.js': 'application/javascript',
  'favicon-32x32.png': 'image/png',
};

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Consent Ledger API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

// persistAuthorization would keep a pasted API key in the browser's localStorage, for any script
// on the origin and anyone at the machine later.
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout', persistAuthorization: false });`;

/**
 * OpenAPI at `/docs` (Swagger UI) and `/docs/json`. Nest's Swagger UI needs `@fastify/static` on
 * Fastify, which this project does not install; the few UI files come from `swagger-ui-dist`, the
 * dependency `@nestjs/swagger` already brings, served by plain routes.
 */
export function mountApiDocs(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Consent Ledger API')
      .setDescription(
        'Records every consent and preference choice as proof, and answers what may be done with whose data. ' +
          'Every route but /health and /docs needs "Authorization: Bearer <API key>". /health answers { status } alone ' +
          'without a key, and its details (stores, read models, Kafka feeds) to any valid key. Errors: 400 validation-failed ' +
          '{ details: [{ field, message }] } (nothing recorded), 401, 403, 409 (idempotency key reused, or concurrent ' +
          'writers), 422 { error: <rule>, message } (a rule of the ledger), 503 with Retry-After (storage unavailable). ' +
          'Every answer carries X-Request-Id: the one the caller sent when well formed, otherwise a new UUID; a 5xx body repeats it as requestId, ' +
          'and every log line written for the request carries it.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key (cl_…)' })
      .build(),
  );
  SwaggerModule.setup('docs', app, withResponses(document), { ui: false, raw: ['json'], jsonDocumentUrl: 'docs/json' });

  const uiDirectory = dirname(require.resolve('swagger-ui-dist/package.json', { paths: [dirname(require.resolve('@nestjs/swagger'))] }));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/docs', (_, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
  fastify.get('/docs/init.js', (_, reply) => reply.type('application/javascript').send(DOCS_INIT));
  for (const [file, type] of Object.entries(SWAGGER_UI_FILES)) {
    const content = readFileSync(join(uiDirectory, file));
    fastify.get(`/docs/assets/${file}`, (_, reply) => reply.type(type).header('Cache-Control', 'public, max-age=86400').send(content));
  }
}
