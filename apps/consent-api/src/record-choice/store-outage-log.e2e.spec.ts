import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithPostgres } from '../../../../test/support/services';
import { type ServiceProcess, startServiceProcess } from '../testing/service-process';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { type ApiResponse, callApi, commandJson, newSubjectId, TEST_KEYS } from '../testing/test-api';

// Found in review: through a database outage every command and decision was answered 503 and the
// API's log said nothing, so on-call saw nothing there. The compiled service, as an operator runs it.
describeWithPostgres('the API\'s log through a database outage', () => {
  let database: PostgresBehindProxy;
  let dataDir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    database = await postgresBehindProxy('cl_outage_log');
    dataDir = mkdtempSync(join(tmpdir(), 'outage-log-'));
    service = await startServiceProcess({
      DATA_DIR: dataDir,
      EVENT_STORE: 'postgres',
      DATABASE_URL: database.url,
      PROJECTOR: 'off',
      NO_COLOR: '1',
      CONSENT_API_KEYS: JSON.stringify([{ key: TEST_KEYS.admin, client: 'admin', scopes: ['commands:write', 'decisions:read', 'relationships:write'] }]),
    });
  });
  afterAll(async () => {
    await database.proxy.restore().catch(() => undefined);
    await service?.kill('SIGTERM');
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (method: string, path: string, body?: unknown) => callApi(service.url, method, path, { body });
  const outageLines = () => service.output().split('\n').filter((line) => /ledger storage/.test(line));

  it('warns once when requests start being refused, whatever their number, and says at info level when the storage answers again, each line naming the request it was written for', async () => {
    const subjectId = newSubjectId();
    expect((await call('POST', '/v1/commands', commandJson.startRelationship(subjectId))).status).toBe(201);

    await database.proxy.cut();
    const refused: ApiResponse[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      refused.push(await call('POST', '/v1/commands', commandJson.restrictChannel(subjectId)));
      refused.push(await call('GET', `/v1/subjects/${subjectId}/decision?purpose=newsletter-customers`));
    }
    expect(refused.map(({ status }) => status)).toEqual(Array(8).fill(503));
    // The first refusal is the one warned of: its line carries the id the channel was answered with.
    const firstRefused = refused[0].headers.get('x-request-id')!;
    expect(refused[0].body.requestId).toBe(firstRefused);
    expect(outageLines()).toEqual([
      expect.stringMatching(/WARN \[ledger-storage\] requestId=(\S+) the ledger storage is unavailable \(\w+.*\): commands and decisions are answered 503/),
    ]);
    expect(outageLines()[0]).toContain(`requestId=${firstRefused} `);

    await database.proxy.restore();
    let answer = refused[0];
    for (const deadline = Date.now() + 15_000; answer.status === 503 && Date.now() < deadline; ) {
      answer = await call('GET', `/v1/subjects/${subjectId}/decision?purpose=newsletter-customers`);
    }
    expect(answer.status).toBe(200);
    // The line is written once the answer is sent, and read from the process's pipe after it.
    for (const deadline = Date.now() + 2000; outageLines().length < 2 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = outageLines();
    expect(lines).toHaveLength(2);
    // Good news, not a warning: alerts on the log's warnings stay quiet for it.
    expect(lines[1]).toMatch(/ LOG \[ledger-storage\] requestId=\S+ the ledger storage answers again after \d+ s unavailable: \d+ requests were answered 503 meanwhile/);
    expect(lines[1]).toContain(`requestId=${answer.headers.get('x-request-id')} `);
    // The reason is the errors' classes: nothing of the requests refused.
    expect(service.output()).not.toContain(subjectId);
  }, 60_000);
});

/**
 * Sends the head of a command and the start of its body on a connection of its own, and no more:
 * `hangUp()` drops the connection; `closed` resolves with what the server wrote once it is closed.
 */
function commandBodyCutShort(url: string, headers: string): Promise<{ hangUp(): void; readonly closed: Promise<string> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /v1/commands HTTP/1.1\r\nHost: localhost\r\n${headers}Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n{"type":"StartRelationship",`);
      resolve({ hangUp: () => socket.destroy(), closed });
    });
    const closed = new Promise<string>((settle) => socket.on('close', () => settle(answer)));
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', reject);
  });
}

// Found in review: Node tells a request whose body stopped arriving (the caller hung up, or was cut
// at REQUEST_TIMEOUT_SECONDS) by ECONNRESET, as a driver tells a database connection dropped, and
// the API took the one for the other: on-call read "the ledger storage is unavailable" for a
// caller's network, and a real outage starting within the next 30 s went untold.
describe("the API's log when callers stop sending their bodies", () => {
  let dataDir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'outage-log-'));
    service = await startServiceProcess({
      DATA_DIR: dataDir,
      NO_COLOR: '1',
      REQUEST_TIMEOUT_SECONDS: '1',
      CONSENT_API_KEYS: JSON.stringify([{ key: TEST_KEYS.admin, client: 'admin', scopes: ['commands:write', 'relationships:write'] }]),
    });
  });
  afterAll(async () => {
    await service?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const storageLines = () => service.output().split('\n').filter((line) => /ledger storage/.test(line));

  it('says nothing of the storage, which answered every request meanwhile', async () => {
    const authorization = `Authorization: Bearer ${TEST_KEYS.admin}\r\nX-Request-Id: cut-short-1\r\n`;
    const hungUp = await commandBodyCutShort(service.url, authorization);
    hungUp.hangUp();
    await hungUp.closed;
    // Left to the request timeout: Node answers 408 on the socket and closes it.
    expect(await (await commandBodyCutShort(service.url, authorization)).closed).toMatch(/^HTTP\/1\.1 408 /);
    // The service logs what it makes of each once it has seen the connection closed.
    for (const deadline = Date.now() + 1000; storageLines().length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));

    expect((await callApi(service.url, 'POST', '/v1/commands', { body: commandJson.startRelationship(newSubjectId()) })).status).toBe(201);
    expect(storageLines()).toEqual([]);
  }, 30_000);
});
