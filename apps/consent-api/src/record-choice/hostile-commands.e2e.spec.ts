import { type Instant, loadCatalogue } from '@consent-ledger/domain';
import { checkCommandRequest } from '@consent-ledger/ledger-commands';
import fc from 'fast-check';
import proximus from '../../../../catalogues/proximus.json';
import { commandJson, everyCommandType, type Json, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

const catalogue = loadCatalogue(proximus);

const wellFormed: Json[] = [
  ...everyCommandType('hostile-target'),
  commandJson.giveConsent('hostile-target', { channels: ['tv-screen'], validUntil: '2030-01-01T00:00:00Z', contact: { name: 'Jan', email: 'jan@example.be' } }),
  commandJson.restrictChannel('hostile-target', { purpose: 'newsletter-customers', channel: 'email', capture: { occurredAt: '2024-05-01T09:00:00+02:00', locale: 'fr-BE' } }),
];

const nested = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level += 1) value = level % 2 ? [value] : { deeper: value };
  return value;
};

/** Values a hostile or broken channel might put anywhere. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.integer({ min: 5, max: 2_000 }).map(nested),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'subject\u0000id',
    '\u202etxt.exe',
    '\ud800',
    'x'.repeat(5_000),
    '2024-02-30T10:00:00Z',
    '2024-05-01T25:00:00Z',
    '9999-12-31T23:59:59Z',
    '2024-05-01',
    'NaN',
    '1e309',
    '__proto__',
    'constructor',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '${jndi:ldap://example.invalid/a}',
    '../../etc/passwd',
    'jan.peeters@example.be',
    '+32475123456',
    'GiveConsent ',
    'giveconsent',
  ),
);

const FORBIDDEN_OR_ODD_KEYS = ['__proto__', 'constructor', 'prototype', '', ' ', 'type ', 'Type', 'subjectID', '\u0000', 'capture.touchpoint', '💥'];

type Mutation = (json: Json) => void;

const pathsOf = (value: unknown, prefix: string[] = []): string[][] =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])])
    : [];

const setOwn = (target: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });

const parentOf = (json: Json, path: string[]): Record<string, unknown> | undefined => {
  let node: unknown = json;
  for (const key of path.slice(0, -1)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
};

const mutation: fc.Arbitrary<(paths: string[][]) => Mutation> = fc.oneof(
  fc.tuple(fc.nat(), hostileValue).map(([pick, value]) => (paths: string[][]) => (json: Json) => {
    const path = paths[pick % paths.length];
    const parent = parentOf(json, path);
    if (parent) setOwn(parent, path[path.length - 1], value);
  }),
  fc.nat().map((pick) => (paths: string[][]) => (json: Json) => {
    const path = paths[pick % paths.length];
    delete parentOf(json, path)?.[path[path.length - 1]];
  }),
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...FORBIDDEN_OR_ODD_KEYS), fc.string({ unit: 'binary', maxLength: 12 })), hostileValue).map(
    ([pick, key, value]) => (paths: string[][]) => (json: Json) => {
      const path = [...paths[pick % paths.length], 'x'];
      const parent = pick % 3 === 0 ? json : parentOf(json, path);
      if (parent) setOwn(parent, key, value);
    },
  ),
);

const mutatedCommand: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...wellFormed), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([base, mutations]) => {
    const json = structuredClone(base);
    const paths = pathsOf(json);
    for (const mutate of mutations) mutate(paths)(json);
    return JSON.stringify(json);
  });

/** Request bodies as text: mutated commands, random JSON, garbage, truncations, injected keys, oversize bodies. */
const hostileBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: mutatedCommand },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...wellFormed), fc.nat()).map(([json, cut]) => {
      const text = JSON.stringify(json);
      return text.slice(0, cut % text.length);
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...wellFormed), fc.constantFrom('__proto__', 'constructor'), fc.jsonValue({ maxDepth: 2 }), fc.boolean())
      .map(([json, key, value, inCapture]) => {
        const text = JSON.stringify(json);
        const at = inCapture ? text.indexOf('"capture":{') + '"capture":{'.length : 1;
        return `${text.slice(0, at)}${JSON.stringify(key)}:${JSON.stringify(value)},${text.slice(at)}`;
      }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 65_000, max: 200_000 }).map((size) => JSON.stringify({ ...wellFormed[0], padding: 'x'.repeat(size) })) },
);

/** What the service itself would accept: such a body is not hostile, and is left out of the run. */
function isAcceptable(body: string): boolean {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return false;
  }
  return checkCommandRequest(json, { catalogue, now: new Date().toISOString() as Instant }).errors === undefined;
}

describe('hostile and malformed commands', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  const expectRefusal = (status: number, body: { error?: string; details?: unknown[] }) => {
    expect(status).toBe(400);
    expect(body.error).toBe('validation-failed');
    expect(body.details?.length).toBeGreaterThan(0);
  };

  it('refuses 10,000 generated commands in-process with 400, never a 5xx, and records nothing', async () => {
    const before = await api.store.headPosition();
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        fc.pre(!isAcceptable(body));
        const response = await api.app.inject({
          method: 'POST',
          url: '/v1/commands',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEYS.admin}` },
          payload: body,
        });
        expectRefusal(response.statusCode, response.json());
      }),
      { numRuns: 10_000 },
    );
    expect(await api.store.headPosition()).toBe(before);
  }, 300_000);

  it('refuses 2,000 more over real HTTP, with idempotency keys and odd headers, and records nothing', async () => {
    const before = await api.store.headPosition();
    await fc.assert(
      fc.asyncProperty(hostileBody, fc.option(fc.stringMatching(/^[\x21-\x7e]{1,40}$/)), async (body, idempotencyKey) => {
        fc.pre(!isAcceptable(body));
        const response = await api.call('POST', '/v1/commands', { rawBody: body, headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} });
        expectRefusal(response.status, response.body);
      }),
      { numRuns: 2_000 },
    );
    expect(await api.store.headPosition()).toBe(before);
  }, 300_000);
});
