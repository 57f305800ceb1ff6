import { connect } from 'node:net';
import { startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

interface Trickle {
  /** Everything the server wrote before the connection closed. */
  readonly answer: Promise<string>;
  stop(): void;
}

/** Sends `head`, then `byte` every `everyMs` until stopped or the server closes the connection. */
function trickle(url: string, head: string, byte = '[', everyMs = 50): Trickle {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => socket.write(head));
  const timer = setInterval(() => socket.writable && socket.write(byte), everyMs);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(text);
    });
  });
  return {
    answer,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

const postHead = (authorization: string | undefined) =>
  `POST /v1/commands HTTP/1.1\r\nHost: localhost\r\n${authorization ? `Authorization: Bearer ${authorization}\r\n` : ''}` +
  'Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n';

describe('a request whose body arrives too slowly', () => {
  let api: TestApi;
  const trickles: Trickle[] = [];
  beforeAll(async () => {
    api = await startTestApi('sqlite', { requestTimeoutMs: 400 });
  });
  afterEach(() => trickles.splice(0).forEach((each) => each.stop()));
  afterAll(() => api.close());

  it('is answered 408 and its connection closed, though bytes keep coming', async () => {
    const slow = trickle(api.url, postHead(TEST_KEYS.admin));
    trickles.push(slow);
    const answer = await slow.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'validation-failed', details: [{ field: 'body', message: 'did not arrive in time' }] });
  });

  it('is cut while its headers are still arriving too', async () => {
    const slow = trickle(api.url, `POST /v1/commands HTTP/1.1\r\nHost: localhost\r\nX-Padding: `, 'a');
    trickles.push(slow);
    expect(await slow.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('leaves the service answering others', async () => {
    const slow = trickle(api.url, postHead(TEST_KEYS.admin));
    trickles.push(slow);
    await slow.answer;
    expect((await api.call('GET', '/health', { key: null })).status).toBe(200);
  });
});

describe('a body sent to be refused', () => {
  let api: TestApi;
  const trickles: Trickle[] = [];
  beforeAll(async () => {
    // The default timeout: what closes these connections is the refusal, not the clock.
    api = await startTestApi('sqlite');
  });
  afterEach(() => trickles.splice(0).forEach((each) => each.stop()));
  afterAll(() => api.close());

  it('is not waited for without a key: the 401 closes the connection', async () => {
    const refused = trickle(api.url, postHead(undefined));
    trickles.push(refused);
    const answer = await refused.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('is not waited for in a type the service does not read', async () => {
    const refused = trickle(api.url, postHead(TEST_KEYS.admin).replace('application/json', 'text/plain'));
    trickles.push(refused);
    const answer = await refused.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('keeps the connection of a refused request that sent no body', async () => {
    const response = await api.call('DELETE', '/v1/commands', { key: null });
    expect(response.status).toBe(401);
    expect(response.headers.get('connection')).not.toBe('close');
  });
});
