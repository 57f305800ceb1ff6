import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { FIELD_RULES } from '@consent-ledger/ledger-commands';
import { getMetadataStorage } from 'class-validator';

/**
 * The OpenAPI schema of a request class, read from its class-validator rules: the documentation
 * is generated from what is validated, so the two cannot disagree.
 */
export function requestSchema(requestClass: Function, fixed: Record<string, SchemaObject> = {}): SchemaObject {
  const rules = getMetadataStorage().getTargetValidationMetadatas(requestClass, '', true, false);
  const properties: Record<string, SchemaObject> = {};
  const optional = new Set<string>();
  for (const rule of rules) {
    if (rule.type === 'conditionalValidation') optional.add(rule.propertyName);
    const schema = schemaOfRule(rule.name, rule.constraints ?? []);
    if (schema) properties[rule.propertyName] = fixed[rule.propertyName] ?? schema;
  }
  const required = Object.keys(properties).filter((name) => !optional.has(name));
  return { type: 'object', properties, required, additionalProperties: false };
}

function schemaOfRule(name: string | undefined, constraints: unknown[]): SchemaObject | undefined {
  switch (name) {
    case FIELD_RULES.oneOf:
      return { type: 'string', enum: [...(constraints[0] as string[])] };
    case FIELD_RULES.listOf:
      return { type: 'array', items: { type: 'string', enum: [...(constraints[0] as string[])] }, minItems: 1, maxItems: constraints[1] as number, uniqueItems: true };
    case FIELD_RULES.ids:
      return { type: 'array', items: { type: 'string', maxLength: 128 }, minItems: 1, maxItems: constraints[0] as number };
    case FIELD_RULES.instant:
      return { type: 'string', format: 'date-time', example: '2024-05-01T09:00:00Z' };
    case FIELD_RULES.text:
      return { type: 'string', maxLength: constraints[0] as number };
    case FIELD_RULES.pseudonymousId:
      return { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$', description: 'pseudonymous id: never an e-mail address or phone number' };
    case FIELD_RULES.locale:
      return { type: 'string', example: 'fr-BE' };
    case FIELD_RULES.email:
      return { type: 'string', format: 'email' };
    case FIELD_RULES.phone:
      return { type: 'string', example: '+32 475 12 34 56' };
    case FIELD_RULES.nested:
      return requestSchema((constraints[0] as () => Function)());
    default:
      return undefined;
  }
}

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

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout', persistAuthorization: true });`;

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
          'Every route but /health and /docs needs "Authorization: Bearer <API key>". Errors: 400 validation-failed ' +
          '{ details: [{ field, message }] } (nothing recorded), 401, 403, 409 (idempotency key reused, or concurrent ' +
          'writers), 422 { error: <rule>, message } (a rule of the ledger), 503 with Retry-After (storage unavailable).',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { ui: false, raw: ['json'], jsonDocumentUrl: 'docs/json' });

  const uiDirectory = dirname(require.resolve('swagger-ui-dist/package.json', { paths: [dirname(require.resolve('@nestjs/swagger'))] }));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/docs', (_, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
  fastify.get('/docs/init.js', (_, reply) => reply.type('application/javascript').send(DOCS_INIT));
  for (const [file, type] of Object.entries(SWAGGER_UI_FILES)) {
    const content = readFileSync(join(uiDirectory, file));
    fastify.get(`/docs/assets/${file}`, (_, reply) => reply.type(type).header('Cache-Control', 'public, max-age=86400').send(content));
  }
}
