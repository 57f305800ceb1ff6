import { commandJson, type CallOptions, LEGAL_OBLIGATION_PURPOSE, newSubjectId, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

interface Schema {
  readonly $ref?: string;
  readonly type?: string;
  readonly properties?: Record<string, Schema>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly enum?: readonly unknown[];
  readonly nullable?: boolean;
  readonly oneOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly additionalProperties?: boolean | Schema;
  readonly example?: unknown;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minProperties?: number;
}
interface Operation {
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly security?: readonly unknown[];
  readonly 'x-scopes'?: readonly string[];
  readonly parameters?: readonly { name: string; in: string; schema: Schema }[];
  readonly requestBody?: { content: { 'application/json': { schema: Schema } } };
  readonly responses: Record<string, { description: string; content?: { 'application/json': { schema: Schema } }; headers?: Record<string, unknown> }>;
}
type Method = 'get' | 'post';

// An integrator's complaint: a client generated from /docs/json could not call or parse several
// routes (bodies, query parameters and answers missing, statuses the service gives undeclared).
describe('the API document, as a client generated from it uses it', () => {
  let api: TestApi;
  let document: { paths: Record<string, Partial<Record<Method, Operation>>>; components: { schemas: Record<string, Schema> } };
  beforeAll(async () => {
    api = await startTestApi('sqlite');
    document = (await api.call('GET', '/docs/json', { key: null })).body;
  });
  afterAll(() => api.close());

  const operation = (method: Method, path: string): Operation => document.paths[path][method]!;
  const operations = () => Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method, path, op: op as Operation })));
  const resolve = (schema: Schema): Schema => (schema.$ref ? document.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema);
  const bodySchema = (method: Method, path: string) => operation(method, path).requestBody!.content['application/json'].schema;
  const exampleOf = (schema: Schema) => schema.example ?? schema.enum?.[0];
  /** A body of the required fields only, each at its example (or first allowed value). */
  const builtFrom = (schema: Schema) => Object.fromEntries((schema.required ?? []).map((name) => [name, exampleOf(schema.properties![name])]));

  /** Where a value departs from a schema: none when a client generated from the document parses it. */
  function departures(declared: Schema, value: unknown, at = '$'): string[] {
    const schema = resolve(declared);
    if (schema.allOf) {
      const parts = schema.allOf.map(resolve);
      const merged = { type: 'object', properties: Object.assign({}, ...parts.map((part) => part.properties)), required: parts.flatMap((part) => part.required ?? []) };
      return departures(merged, value, at);
    }
    if (schema.oneOf) {
      // A generated client takes oneOf as the spec does: exactly one form, and refuses a value two forms take.
      const forms = schema.oneOf.filter((form) => departures(form, value, at).length === 0).length;
      return forms === 1 ? [] : forms === 0 ? [`${at} has none of its declared forms`] : [`${at} has ${forms} of its declared forms, where oneOf allows one`];
    }
    if (value === null) return schema.nullable ? [] : [`${at} is null`];
    if (schema.enum && !schema.enum.includes(value)) return [`${at} is ${JSON.stringify(value)}, not a declared value`];
    switch (schema.type) {
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) return [`${at} is not an object`];
        const fields = value as Record<string, unknown>;
        const properties = schema.properties;
        return [
          ...(schema.required ?? []).filter((name) => !(name in fields)).map((name) => `${at}.${name} is missing`),
          ...(properties && schema.additionalProperties !== true ? Object.keys(fields).filter((name) => !(name in properties)).map((name) => `${at}.${name} is not declared`) : []),
          ...Object.entries(fields).flatMap(([name, field]) => (properties?.[name] ? departures(properties[name], field, `${at}.${name}`) : [])),
        ];
      }
      case 'array':
        return Array.isArray(value) ? value.flatMap((item, index) => departures(schema.items!, item, `${at}[${index}]`)) : [`${at} is not a list`];
      case 'integer':
        return Number.isInteger(value) ? [] : [`${at} is not an integer`];
      case 'string':
      case 'boolean':
        return typeof value === schema.type ? [] : [`${at} is not a ${schema.type}`];
      default:
        return [];
    }
  }

  /** Headers a client acts on: whether an answer is a replay, when to retry, how to authenticate, which request to quote. */
  const HEADERS_CLIENTS_READ = ['idempotency-replayed', 'retry-after', 'www-authenticate', 'x-request-id'];

  /** Calls the route and expects the status it answers to be declared for it, with a body that parses as declared and the headers it acts on declared. */
  async function callAsDocumented(method: Method, template: string, options: CallOptions & { path?: string; query?: string; via?: TestApi } = {}) {
    const path = (options.path ?? template) + (options.query ?? '');
    const response = await (options.via ?? api).call(method.toUpperCase(), path, options);
    const declared = operation(method, template).responses[String(response.status)];
    expect({ call: `${method} ${path}`, status: response.status, declared: declared !== undefined }).toEqual({ call: `${method} ${path}`, status: response.status, declared: true });
    expect({ call: `${method} ${path}`, departures: departures(declared.content!['application/json'].schema, response.body) }).toEqual({ call: `${method} ${path}`, departures: [] });
    const declaredHeaders = Object.keys(declared.headers ?? {}).map((name) => name.toLowerCase());
    const sent = HEADERS_CLIENTS_READ.filter((name) => response.headers.has(name));
    expect({ call: `${method} ${path}`, status: response.status, undeclaredHeaders: sent.filter((name) => !declaredHeaders.includes(name)) }).toEqual({
      call: `${method} ${path}`,
      status: response.status,
      undeclaredHeaders: [],
    });
    return response;
  }

  // Found in review: the command operation was tagged "commands" and also "RecordChoice", the
  // name the generator takes from a controller without tags of its own, so /docs showed it twice.
  it('lists every operation once on the docs page, in one group', () =>
    expect(operations().filter(({ op }) => op.tags?.length !== 1).map(({ method, path, op }) => `${method} ${path}: ${op.tags?.join(', ')}`)).toEqual([]));

  it('declares the body of every operation that reads one, as its validation takes it', () => {
    const posts = operations().filter(({ method }) => method === 'post');
    expect(posts.length).toBeGreaterThanOrEqual(7);
    for (const { path, op } of posts) {
      expect({ path, properties: Object.keys(op.requestBody?.content['application/json'].schema.properties ?? {}).length > 0 || 'oneOf' in (op.requestBody?.content['application/json'].schema ?? {}) }).toEqual({
        path,
        properties: true,
      });
    }
    expect(bodySchema('post', '/v1/rights-requests').required).toEqual(expect.arrayContaining(['subjectId', 'kind', 'touchpoint', 'receivedAt']));
    expect(bodySchema('post', '/v1/rights-requests/{requestId}/extend').properties).toMatchObject({ byDays: { type: 'integer' }, reason: { enum: ['number-of-pending-requests', 'complexity'] } });
    expect(bodySchema('post', '/v1/proof-retention/runs').properties).toEqual({ dryRun: { type: 'boolean' } });
  });

  it('declares a schema and a description for every success answer', () => {
    for (const { method, path, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses).filter(([status]) => status.startsWith('2'))) {
        expect({ method, path, status, described: response.description.length > 0, schema: response.content?.['application/json']?.schema !== undefined }).toEqual({
          method,
          path,
          status,
          described: true,
          schema: true,
        });
      }
    }
  });

  it('receives a rights request built from the documented required fields and examples, and answers every call on it as declared', async () => {
    const receive = builtFrom(bodySchema('post', '/v1/rights-requests'));
    const received = await callAsDocumented('post', '/v1/rights-requests', { body: receive });
    expect(received.status).toBe(201);
    expect((await callAsDocumented('post', '/v1/rights-requests', { body: { ...receive, requestId: received.body.requestId } })).status).toBe(200);
    const otherDetails = { ...receive, requestId: received.body.requestId, kind: 'erasure' };
    expect((await callAsDocumented('post', '/v1/rights-requests', { body: otherDetails })).body.error).toBe('request-already-received');
    const future = { ...receive, receivedAt: new Date(Date.now() + 86_400_000).toISOString() };
    expect((await callAsDocumented('post', '/v1/rights-requests', { body: future })).body.error).toBe('received-in-the-future');

    const open = await callAsDocumented('post', '/v1/rights-requests', { body: { ...receive, receivedAt: new Date().toISOString() } });
    const on = (call: string) => ({ path: `/v1/rights-requests/${open.body.requestId}/${call}` });
    const extend = builtFrom(bodySchema('post', '/v1/rights-requests/{requestId}/extend'));
    expect((await callAsDocumented('post', '/v1/rights-requests/{requestId}/extend', { ...on('extend'), body: extend })).status).toBe(200);
    expect((await callAsDocumented('post', '/v1/rights-requests/{requestId}/extend', { ...on('extend'), body: { ...extend, byDays: 31 } })).body.error).toBe('extension-beyond-60-days');
    const refuse = builtFrom(bodySchema('post', '/v1/rights-requests/{requestId}/refuse'));
    expect((await callAsDocumented('post', '/v1/rights-requests/{requestId}/refuse', { ...on('refuse'), body: refuse })).status).toBe(200);
    expect((await callAsDocumented('post', '/v1/rights-requests/{requestId}/refuse', { ...on('refuse'), body: { reason: 'excessive' } })).body.error).toBe('request-already-refused');
    expect((await callAsDocumented('post', '/v1/rights-requests/{requestId}/complete', { ...on('complete') })).body.error).toBe('request-already-closed');
    expect((await callAsDocumented('post', '/v1/rights-requests/{requestId}/extend', { ...on('extend'), body: extend })).body.error).toBe('request-already-closed');

    expect((await callAsDocumented('post', '/v1/rights-requests/{requestId}/extend', { path: '/v1/rights-requests/never-received/extend', body: extend })).body.error).toBe('unknown-request');
    expect((await callAsDocumented('get', '/v1/rights-requests/{requestId}', { path: `/v1/rights-requests/${open.body.requestId}` })).status).toBe(200);
    expect((await callAsDocumented('get', '/v1/rights-requests/{requestId}', { path: '/v1/rights-requests/never-received' })).status).toBe(404);
    expect((await callAsDocumented('post', '/v1/rights-requests', { query: '?x=1', body: receive })).status).toBe(400);
  });

  it('declares the query parameters the list of rights requests validates, and a question asked with them is answered', async () => {
    const parameters = operation('get', '/v1/rights-requests').parameters!.filter((parameter) => parameter.in === 'query');
    expect(parameters.map(({ name }) => name).sort()).toEqual(['after', 'dueWithin', 'limit', 'status', 'subjectId']);
    // `after` has no example: it is the `next` of the page before.
    const query = parameters
      .filter(({ name }) => name !== 'after')
      .map(({ name, schema }) => `${name}=${encodeURIComponent(String(exampleOf(schema)))}`)
      .join('&');
    expect((await callAsDocumented('get', '/v1/rights-requests', { query: `?${query}` })).status).toBe(200);
    expect((await callAsDocumented('get', '/v1/rights-requests')).status).toBe(200);
    const first = await callAsDocumented('get', '/v1/rights-requests', { query: '?limit=1' });
    expect(first.body.next).toEqual(expect.any(String));
    expect((await callAsDocumented('get', '/v1/rights-requests', { query: `?limit=1&after=${first.body.next}` })).status).toBe(200);
    expect((await callAsDocumented('get', '/v1/rights-requests', { query: '?limit=0' })).status).toBe(400);
    expect((await callAsDocumented('get', '/v1/rights-requests', { query: '?x=1' })).status).toBe(400);
    expect((await callAsDocumented('get', '/v1/purposes', { query: '?x=1' })).status).toBe(400);
  });

  it('answers the proof-retention routes as declared, the run asked with the documented body', async () => {
    const dryRun = Object.fromEntries(Object.entries(bodySchema('post', '/v1/proof-retention/runs').properties!).map(([name, schema]) => [name, schema.type === 'boolean' ? true : exampleOf(schema)]));
    expect((await callAsDocumented('post', '/v1/proof-retention/runs', { body: dryRun })).body).toMatchObject({ dryRun: true, removed: [] });
    expect((await callAsDocumented('post', '/v1/proof-retention/runs', { body: { dryRun: 'yes' } })).status).toBe(400);
    expect((await callAsDocumented('get', '/v1/proof-retention/runs')).body).toEqual({ runs: [expect.objectContaining({ dryRun: true })], next: null });
    const parameters = operation('get', '/v1/proof-retention/runs').parameters!.filter((parameter) => parameter.in === 'query');
    expect(parameters.map(({ name, schema }) => [name, schema.type])).toEqual([
      ['limit', 'integer'],
      ['after', 'string'],
    ]);
    expect((await callAsDocumented('get', '/v1/proof-retention/runs', { query: '?limit=1&after=x' })).status).toBe(400);
  });

  it("answers the questions about a subject's record with bodies that parse as declared", async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId));
    const consent = await api.command(commandJson.giveConsent(subjectId));
    await api.call('POST', '/v1/rights-requests', { body: { subjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt: new Date().toISOString() } });
    const subject = (route: string) => ({ path: `/v1/subjects/${subjectId}/${route}`, key: TEST_KEYS.auditor });

    expect((await callAsDocumented('get', '/v1/subjects/{subjectId}/history', subject('history'))).body.events).toHaveLength(2);
    expect((await callAsDocumented('get', '/v1/subjects/{subjectId}/receipts', subject('receipts'))).body.receipts).toHaveLength(2);
    expect((await callAsDocumented('get', '/v1/subjects/{subjectId}/receipts/{eventId}', subject(`receipts/${consent.body.events[0].id}`))).status).toBe(200);
    expect((await callAsDocumented('get', '/v1/subjects/{subjectId}/receipts/{eventId}', subject('receipts/7b0c5d3e-0000-4000-8000-000000000000'))).status).toBe(404);
    expect((await callAsDocumented('get', '/v1/subjects/{subjectId}/export', subject('export'))).body.rightsRequests).toHaveLength(1);
    expect((await callAsDocumented('get', '/v1/subjects/{subjectId}/timeline', subject('timeline'))).body.steps).toHaveLength(2);
    expect((await callAsDocumented('get', '/v1/purposes')).status).toBe(200);
    expect((await callAsDocumented('get', '/health', { key: null })).status).toBe(200);
    expect((await callAsDocumented('get', '/health', { key: TEST_KEYS.reader })).body.store).toEqual({ kind: 'sqlite', ready: true });
    expect((await callAsDocumented('get', '/health', { key: 'not-a-key-anyone-was-given' })).status).toBe(401);
  });

  // Found by an integrator: "erased" and "withheld" are strings, so they matched both forms of the
  // sealed evidence's oneOf (text, or one of those words), and a strict client refused the export.
  it("answers an erased subject's export, and one whose personal data is withheld, with bodies that parse as declared", async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId));
    await api.command(commandJson.giveConsent(subjectId, { capture: { evidenceRef: 'call-rec-0001' } }));
    await api.command(commandJson.object(subjectId, { purpose: 'myproximus-app-usage-analytics', justification: 'my usage says too much about me' }));
    const exportAs = (key: string) => callAsDocumented('get', '/v1/subjects/{subjectId}/export', { path: `/v1/subjects/${subjectId}/export`, key });
    expect((await exportAs(TEST_KEYS.auditor)).body.personalData).toBe('withheld');
    expect((await api.command(commandJson.eraseSubject(subjectId))).status).toBe(201);
    expect((await exportAs(TEST_KEYS.admin)).body.personalData).toBe('erased');
  });

  // Found by an integrator: no operation declared 500 or 408, so a generated client could not read
  // the errorId a 500 carries, the one thing to quote to the operator.
  it('declares on every operation the 500 with its errorId and the 408 of a request that arrived too slowly', () => {
    for (const { method, path, op } of operations()) {
      const internal = op.responses['500']?.content?.['application/json'].schema;
      const timedOut = op.responses['408']?.content?.['application/json'].schema;
      expect({ method, path, internal: internal && resolve(internal).required, timedOut: timedOut && resolve(timedOut).required }).toEqual({
        method,
        path,
        internal: ['error', 'message', 'errorId', 'requestId'],
        timedOut: ['error', 'details'],
      });
    }
  });

  // Found by operations: a channel quoting "your API answered 503 at 14:02" could not be matched to
  // the log; the answers now carry the request's id, and a generated client must be able to read it.
  it('declares on every operation the X-Request-Id a caller may send, the one every answer carries, and the requestId of a 5xx body', () => {
    for (const { method, path, op } of operations()) {
      const sent = op.parameters!.find(({ name, in: where }) => name === 'X-Request-Id' && where === 'header') as { required?: boolean } | undefined;
      const answersWithout = Object.entries(op.responses)
        .filter(([, response]) => !Object.keys(response.headers ?? {}).some((name) => name.toLowerCase() === 'x-request-id'))
        .map(([status]) => status);
      expect({ method, path, sent: sent && !sent.required, answersWithout }).toEqual({ method, path, sent: true, answersWithout: [] });
      if (path !== '/health') {
        const unavailable = resolve(op.responses['503'].content!['application/json'].schema);
        expect({ method, path, unavailable: unavailable.required }).toEqual({ method, path, unavailable: ['error', 'message', 'requestId'] });
      }
    }
  });

  // Found by an integrator: the subject id in the path was declared as any text, where the body's
  // and the query's carry the pattern the service checks.
  it('declares the subject id of every path with the pattern the service checks', () => {
    const withSubject = operations().filter(({ path }) => path.includes('{subjectId}'));
    expect(withSubject.length).toBeGreaterThanOrEqual(7);
    for (const { method, path, op } of withSubject) {
      const parameter = op.parameters!.find(({ name, in: where }) => name === 'subjectId' && where === 'path')!;
      expect({ method, path, pattern: (parameter.schema as Schema & { pattern?: string }).pattern }).toEqual({ method, path, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });
    }
  });

  // Found in review: the service began checking the ticket id and the event id in the path (400
  // naming requestId or eventId), but the document still declared both as any text, so a client
  // generated from it sent what it allowed and got 400.
  it('declares the ticket id and the event id of a path with the checks the service makes', async () => {
    const declared = operations().flatMap(({ method, path, op }) =>
      (op.parameters ?? []).filter(({ name, in: where }) => where === 'path' && (name === 'requestId' || name === 'eventId')).map(({ name, schema }) => ({ method, path, name, schema })),
    );
    expect(declared.length).toBe(5);
    const allows = (schema: Schema & { format?: string }, value: string) =>
      (schema.pattern === undefined || new RegExp(schema.pattern).test(value)) && (schema.format !== 'uuid' || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value));
    for (const { method, path, name, schema } of declared) {
      expect({ method, path, allowsAnEmailAddress: allows(schema, 'jan@example.be') }).toEqual({ method, path, allowsAnEmailAddress: false });
    }
    const receipt = declared.find(({ name }) => name === 'eventId')!.schema;
    const subjectId = newSubjectId();
    const refused = await api.call('GET', `/v1/subjects/${subjectId}/receipts/event-1`, { key: TEST_KEYS.auditor });
    expect([refused.status, allows(receipt, 'event-1'), allows(receipt, '00000000-0000-4000-8000-000000000000')]).toEqual([400, false, true]);
  });

  // Found by an integrator: clients generated from the document (Java's OkHttp, TypeScript's fetch)
  // label every request of an operation that has a JSON body `application/json`, also when the
  // optional body is left out. The declared-optional bodies were then refused as malformed JSON.
  it('takes a declared-optional body left out under the JSON content type as no body', async () => {
    const optional = operations().filter(({ method, op }) => method === 'post' && op.requestBody && !(op.requestBody as { required?: boolean }).required);
    expect(optional.map(({ path }) => path).sort()).toEqual(['/v1/proof-retention/runs', '/v1/rights-requests/{requestId}/complete']);
    const received = await api.call('POST', '/v1/rights-requests', { body: { ...builtFrom(bodySchema('post', '/v1/rights-requests')), receivedAt: new Date().toISOString() } });
    const completed = await callAsDocumented('post', '/v1/rights-requests/{requestId}/complete', { path: `/v1/rights-requests/${received.body.requestId}/complete`, rawBody: '' });
    expect([completed.status, completed.body.status]).toEqual([200, 'completed']);
    expect((await callAsDocumented('post', '/v1/proof-retention/runs', { rawBody: '' })).body).toMatchObject({ dryRun: false });
    // A body is still needed where the document requires one.
    expect((await callAsDocumented('post', '/v1/commands', { rawBody: '' })).status).toBe(400);
  });

  // Found in review: api.md says an empty body is no body whatever its content type, but only one
  // labelled application/json was; `curl -X POST -d ''` labels it a form, and was refused.
  it.each(['application/x-www-form-urlencoded', 'text/plain'])('takes a declared-optional body left out under %s as no body, as api.md says', async (contentType) => {
    const run = await callAsDocumented('post', '/v1/proof-retention/runs', { rawBody: '', headers: { 'content-type': contentType } });
    expect([run.status, run.body.dryRun]).toEqual([200, false]);
    const sent = await callAsDocumented('post', '/v1/proof-retention/runs', { rawBody: '{"dryRun":true}', headers: { 'content-type': contentType } });
    expect([sent.status, sent.body.details]).toEqual([400, [{ field: 'body', message: 'must be sent as application/json' }]]);
  });

  // Found by an integrator: a retry's answer carries Idempotency-Replayed, but the commands route
  // declared it on none of its answers, and the rights-request calls not on their refusals, which
  // are kept for the key too; a generated client could not read it.
  it('declares Idempotency-Replayed on every answer a retry with the same key gets again', async () => {
    const subjectId = newSubjectId();
    const retried = async (template: string, options: CallOptions & { path?: string; body: unknown }, status: number) => {
      const key = `replay-${newSubjectId()}`;
      const first = await callAsDocumented('post', template, { ...options, headers: { 'idempotency-key': key } });
      const again = await callAsDocumented('post', template, { ...options, headers: { 'idempotency-key': key } });
      expect([first.status, again.status, again.headers.get('idempotency-replayed')]).toEqual([status, status, 'true']);
    };
    await retried('/v1/commands', { body: commandJson.startRelationship(subjectId) }, 201);
    const restriction = commandJson.restrictChannel(subjectId, { capture: { occurredAt: '2025-01-01T00:00:00Z' } });
    await api.command(restriction);
    await retried('/v1/commands', { body: restriction }, 200);
    await retried('/v1/commands', { body: commandJson.object(subjectId, { purpose: LEGAL_OBLIGATION_PURPOSE }) }, 422);

    await retried('/v1/rights-requests/{requestId}/complete', { path: '/v1/rights-requests/never-received/complete', body: {} }, 404);
    const receive = { ...builtFrom(bodySchema('post', '/v1/rights-requests')), subjectId, receivedAt: new Date().toISOString() };
    const received = await api.call('POST', '/v1/rights-requests', { body: receive });
    await retried('/v1/rights-requests', { body: { ...receive, requestId: received.body.requestId, kind: 'erasure' } }, 409);
    await retried('/v1/rights-requests/{requestId}/extend', { path: `/v1/rights-requests/${received.body.requestId}/extend`, body: { byDays: 61, reason: 'complexity' } }, 422);
  });

  // Found by an integrator: the commands route declared its 503 without a body or Retry-After, so a
  // generated client could neither read the answer nor tell when to send the command again.
  it('answers a command 503 with the body and Retry-After it declares when the store is gone', async () => {
    const down = await startTestApi('sqlite');
    try {
      await down.store.close();
      const response = await callAsDocumented('post', '/v1/commands', { via: down, body: commandJson.startRelationship(newSubjectId()) });
      expect([response.status, response.headers.get('retry-after')]).toEqual([503, expect.stringMatching(/^\d+$/)]);
    } finally {
      await down.close();
    }
  });

  // Found by an integrator: a client generated from the document sent a locale, a phone number or
  // an audience id the document allowed, and got 400: the document left out the checks behind them.
  it('declares the limits the service checks on the fields of a command and of an audience question', async () => {
    const consent = resolve(bodySchema('post', '/v1/commands')).oneOf!.find((form) => form.properties!.type.enum![0] === 'GiveConsent')!;
    const field = (schema: Schema, path: string) => path.split('.').reduce((at, name) => resolve(at).properties![name], schema);
    /** Whether the document lets a client send the value: its pattern, lengths and field count. */
    const allows = (schema: Schema, value: unknown) =>
      typeof value === 'string'
        ? (schema.pattern === undefined || new RegExp(schema.pattern).test(value)) && value.length >= (schema.minLength ?? 0) && value.length <= (schema.maxLength ?? Infinity)
        : Object.keys(value as object).length >= (schema.minProperties ?? 0);
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId));
    const cases: [string, unknown, unknown][] = [
      ['capture.locale', 'french', 'nl-BE'],
      ['contact.phone', 'call me after six', '+32 475 12 34 56'],
      ['contact.email', `${'a'.repeat(64)}@${'b'.repeat(250)}.example.be`, 'jan@example.be'],
      ['contact', {}, { name: 'Jan' }],
      ['capture.evidenceRef', '   ', 'call-rec-0001'],
      ['capture.occurredAt', `2025-01-01T00:00:00.${'0'.repeat(30)}Z`, '2025-01-01T00:00:00Z'],
    ];
    for (const [path, refused, accepted] of cases) {
      const schema = field(consent, path);
      const withValue = (value: unknown) => {
        const json = commandJson.giveConsent(subjectId, path === 'contact' || path.startsWith('contact.') ? { contact: { name: 'Jan' } } : {}) as Record<string, any>;
        const [parent, name] = path.includes('.') ? path.split('.') : [undefined, path];
        if (parent) json[parent] = { ...json[parent], [name]: value };
        else json[name] = value;
        return json;
      };
      const answers = [(await api.command(withValue(refused))).status, (await api.command(withValue(accepted))).status];
      expect({ path, answers, documentAllows: [allows(schema, refused), allows(schema, accepted)] }).toEqual({ path, answers: [400, 201], documentAllows: [false, true] });
    }

    const audienceIds = bodySchema('post', '/v1/decisions').properties!.subjectIds.items!;
    const audience = (id: string) => api.call('POST', '/v1/decisions', { key: TEST_KEYS.reader, body: { purpose: 'newsletter-customers', subjectIds: [id] } });
    expect([(await audience('jan@example.be')).status, allows(audienceIds, 'jan@example.be'), (await audience(subjectId)).status, allows(audienceIds, subjectId)]).toEqual([400, false, 200, true]);
  });

  // Found in review: every pseudonymous id shared one schema object, so each field's example overwrote
  // the others' and a rights request's id and handler were shown as a customer number.
  it("shows each pseudonymous id field with its own example", () => {
    const receive = bodySchema('post', '/v1/rights-requests').properties!;
    expect([receive.subjectId.example, receive.requestId.example, receive.handledBy.example]).toEqual(['cust-4711', 'ticket-2024-0042', 'agent-0042']);
  });

  // Found by an integrator: the document named the scopes of the commands route only, so the
  // operator of a generated client could not tell which scope to ask for its key.
  it('names on every operation that needs a key the scopes it takes, as the service checks them', async () => {
    const needsAKey = (op: Operation) => op.security?.length && !op.security.some((requirement) => Object.keys(requirement as object).length === 0);
    const needs = Object.fromEntries(operations().filter(({ op }) => needsAKey(op)).map(({ method, path, op }) => [`${method} ${path}`, op['x-scopes'] ?? 'any key']));
    expect(needs).toEqual({
      'post /v1/commands': ['commands:write', 'relationships:write', 'objections:review', 'subjects:erase'],
      'get /v1/subjects/{subjectId}/decision': ['decisions:read'],
      'get /v1/subjects/{subjectId}/preferences': ['decisions:read'],
      'post /v1/decisions': ['decisions:read'],
      'get /v1/subjects/{subjectId}/history': ['history:read'],
      'get /v1/subjects/{subjectId}/receipts': ['history:read'],
      'get /v1/subjects/{subjectId}/receipts/{eventId}': ['history:read'],
      'get /v1/subjects/{subjectId}/export': ['history:read'],
      'get /v1/subjects/{subjectId}/timeline': ['history:read'],
      'post /v1/rights-requests': ['rights:manage'],
      'get /v1/rights-requests': ['rights:manage'],
      'get /v1/rights-requests/{requestId}': ['rights:manage'],
      'post /v1/rights-requests/{requestId}/extend': ['rights:manage'],
      'post /v1/rights-requests/{requestId}/complete': ['rights:manage'],
      'post /v1/rights-requests/{requestId}/refuse': ['rights:manage'],
      'post /v1/proof-retention/runs': ['rights:manage'],
      'get /v1/proof-retention/runs': ['rights:manage'],
      'get /v1/purposes': 'any key',
    });
    expect(operation('get', '/v1/subjects/{subjectId}/history').description).toMatch(/^Needs the scope history:read\. /);
    expect(operation('get', '/v1/purposes').description).toBe('Needs any valid API key.');
    const history = `/v1/subjects/${newSubjectId()}/history`;
    expect([(await api.call('GET', history, { key: TEST_KEYS.reader })).status, (await api.call('GET', history, { key: TEST_KEYS.auditor })).status]).toEqual([403, 200]);
  });

  it('declares the body health answers when the store is not ready, not an error body: status alone without a key, the details with one', () => {
    const [anonymous, withKey] = operation('get', '/health').responses['503'].content!['application/json'].schema.oneOf!.map(resolve);
    expect([anonymous.required, anonymous.properties!.status.enum, anonymous.additionalProperties]).toEqual([['status'], ['ready', 'unavailable'], false]);
    expect(withKey.required).toEqual(['status', 'store', 'readModels', 'keyScrub']);
    expect(resolve(withKey.properties!.keyScrub).properties!.state.enum).toEqual(['done', 'pending', 'unknown']);
    expect(withKey.properties!.status.enum).toContain('unavailable');
    const feed = resolve(withKey.properties!.feeds.items!);
    expect(feed.required).toEqual(['name', 'position', 'behind', 'leader']);
    expect(feed.properties!.leader).toMatchObject({ type: 'string', nullable: true });
  });

  it('declares that health takes a key or none, and what it tells each', () => {
    const health = operation('get', '/health');
    expect(health.security).toEqual([{}, { bearer: [] }]);
    expect(health.description).toMatch(/without Authorization, the body is \{ status \} alone/);
    expect(Object.keys(health.responses)).not.toContain('403');
  });
});
