import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventStore } from '@consent-ledger/event-store';
import { createTestSchema, type TestSchema } from '../../../../test/support/services';
import { SCOPES } from '../api-keys/scopes';
import type { ApiConfig, ApiKeyGrant } from '../config';
import { type ConsentApiOptions, createConsentApi } from '../consent-api';
import { LedgerStorage } from '../ledger/ledger-storage';

export { commandJson, everyCommandType, captureJson, CONSENT_PURPOSE, MOTIVATED_PURPOSE, LEGAL_OBLIGATION_PURPOSE, TEST_NOTICE, type Json } from '../../../../libs/ledger-commands/src/testing/command-json';

export const REPOSITORY_ROOT = join(__dirname, '..', '..', '..', '..');

/** Keys the test configurations carry: one per kind of caller. */
export const TEST_KEYS = {
  admin: 'test-admin-key-0000000000000000',
  channel: 'test-channel-key-000000000000000',
  tvMenu: 'test-tv-menu-key-000000000000000',
  reader: 'test-reader-key-0000000000000000',
  auditor: 'test-auditor-key-000000000000000',
  dpoMailbox: 'test-dpo-mailbox-key-00000000000',
  crm: 'test-crm-key-00000000000000000000',
} as const;

export const TEST_GRANTS: readonly ApiKeyGrant[] = [
  { key: TEST_KEYS.admin, client: 'admin', scopes: [...SCOPES] },
  { key: TEST_KEYS.channel, client: 'myproximus', scopes: ['commands:write', 'decisions:read'] },
  { key: TEST_KEYS.tvMenu, client: 'tv-decoder', scopes: ['commands:write', 'decisions:read'], touchpoints: ['tv-menu'] },
  { key: TEST_KEYS.reader, client: 'campaign-tool', scopes: ['decisions:read'] },
  { key: TEST_KEYS.auditor, client: 'dpo-office', scopes: ['history:read'] },
  { key: TEST_KEYS.dpoMailbox, client: 'dpo-mailbox', scopes: ['rights:manage'], touchpoints: ['dpo-email'] },
  { key: TEST_KEYS.crm, client: 'crm', scopes: ['relationships:write'] },
];

export type StoreKind = 'sqlite' | 'postgres';

/** A configuration of its own for each test API: a fresh data directory (and PostgreSQL schema). */
export function testConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return {
    eventStore: 'sqlite',
    dataDir: mkdtempSync(join(tmpdir(), 'consent-api-')),
    kafkaBrokers: [],
    host: '127.0.0.1',
    port: 0,
    requestTimeoutMs: 30_000,
    databaseAnswerTimeoutMs: 10_000,
    apiKeys: TEST_GRANTS,
    catalogueFile: join(REPOSITORY_ROOT, 'catalogues', 'proximus.json'),
    masterKey: randomBytes(32),
    projector: 'in-process',
    // Tests run the job when they mean to, with a clock of their own.
    proofRetentionEveryMs: 0,
    idempotencyRetentionMs: 30 * 86_400_000,
    logFormat: 'text',
    ...overrides,
  };
}

export interface ApiResponse<Body = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
}

export interface CallOptions {
  readonly key?: string | null;
  readonly body?: unknown;
  /** Sent as is, instead of `body` serialised as JSON: text goes out as UTF-8, bytes as they are. */
  readonly rawBody?: string | Uint8Array;
  readonly headers?: Record<string, string>;
}

export interface TestApi {
  readonly url: string;
  readonly config: ApiConfig;
  readonly app: NestFastifyApplication;
  readonly store: EventStore;
  call<Body = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<Body>>;
  /** `POST /v1/commands` as the admin unless another key is given. */
  command<Body = any>(json: unknown, options?: CallOptions & { idempotencyKey?: string }): Promise<ApiResponse<Body>>;
  close(): Promise<void>;
}

/** Boots the API on a free port of 127.0.0.1 with a test configuration; calls go over real HTTP. */
export async function startTestApi(kind: StoreKind = 'sqlite', overrides: Partial<ApiConfig> = {}, options: Pick<ConsentApiOptions, 'clock'> = {}): Promise<TestApi> {
  const schema: TestSchema | undefined = kind === 'postgres' ? await createTestSchema('cl_api') : undefined;
  const config = testConfig({ ...(schema && { eventStore: 'postgres', databaseUrl: schema.url }), ...overrides });
  const app = await createConsentApi(config, { logger: ['error', 'warn'], ...options });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const call = <Body>(method: string, path: string, options: CallOptions = {}) => callApi<Body>(url, method, path, options);
  return {
    url,
    config,
    app,
    store: app.get(LedgerStorage).eventStore,
    call,
    command: (json, { idempotencyKey, headers, ...options } = {}) =>
      call('POST', '/v1/commands', { ...options, body: json, headers: { ...headers, ...(idempotencyKey !== undefined && { 'idempotency-key': idempotencyKey }) } }),
    async close() {
      await app.close();
      await schema?.drop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

export async function callApi<Body = any>(url: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<Body>> {
  const key = options.key === undefined ? TEST_KEYS.admin : options.key;
  const hasBody = options.rawBody !== undefined || options.body !== undefined;
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(hasBody && { 'content-type': 'application/json' }),
      ...(key !== null && { authorization: `Bearer ${key}` }),
      ...options.headers,
    },
    ...(hasBody && { body: options.rawBody ?? JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON (the docs page): the text is the body.
  }
  return { status: response.status, headers: response.headers, body: body as Body };
}

/** Unique per call, so tests sharing one API never share a subject. */
let subjects = 0;
export const newSubjectId = (prefix = 'subject'): string => `${prefix}-${process.pid}-${(subjects += 1)}-${randomBytes(3).toString('hex')}`;

/**
 * Follows a paged list's `next` from the first page to the last (`GET path?query`, then
 * `&after=<next>`), returning what `idsOf` reads from each page. `between` runs after each page.
 */
export async function everyPage<Page extends { readonly next: string | null }>(
  api: TestApi,
  path: string,
  query: string,
  idsOf: (page: Page) => string[],
  between: (pagesRead: number) => Promise<void> = async () => undefined,
): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | null = null;
  do {
    const page: ApiResponse<Page> = await api.call<Page>('GET', `${path}?${query}${after ? `&after=${after}` : ''}`);
    expect(page.status).toBe(200);
    pages.push(idsOf(page.body));
    after = page.body.next;
    await between(pages.length);
  } while (after);
  return pages;
}
