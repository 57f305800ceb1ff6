import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECTOR_MAIN, ProjectorProcess } from './support/projector-process';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A port nothing listens on: taken, then let go. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The compiled projector as a log shipper meets it (run `npm run build` first; `npm test` does). */
describe('the projector writing its log as JSON lines', () => {
  let dataDir: string;
  beforeAll(() => {
    if (!existsSync(PROJECTOR_MAIN)) throw new Error(`${PROJECTOR_MAIN} is missing: run "npm run build" first`);
  });
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'projector-log-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('writes kafkajs\'s errors and its own failure to start as JSON objects, one per line', async () => {
    const projector = new ProjectorProcess({ DATA_DIR: dataDir, LOG_FORMAT: 'json', KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`, PROJECTOR_INSTANCE_ID: 'log-format' });
    expect(await projector.exited).toBe(1);
    const output = projector.output.join('');
    expect(output).not.toContain('\u001b[');
    const lines = output.split('\n').filter(Boolean).map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line is not JSON: ${line}`);
      }
    });
    for (const line of lines) expect(line).toMatchObject({ timestamp: expect.stringMatching(ISO_UTC), level: expect.any(String), context: expect.any(String), message: expect.any(String) });
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', context: 'kafkajs', message: expect.stringContaining('ECONNREFUSED') }));
    expect(lines.at(-1)).toMatchObject({ level: 'fatal', context: 'Projector', message: expect.stringMatching(/^the projector could not start: /) });
  }, 60_000);

  it('refuses a LOG_FORMAT it does not know with the configuration exit code, naming the setting', async () => {
    const projector = new ProjectorProcess({ DATA_DIR: dataDir, LOG_FORMAT: 'bogus', KAFKA_BROKERS: `127.0.0.1:${await closedPort()}` });
    // Ended if it goes on running (null): it would otherwise outlive the test.
    const stillRunning = setTimeout(() => void projector.kill(), 5000);
    const code = await projector.exited;
    clearTimeout(stillRunning);
    expect(code).toBe(78);
    expect(projector.output.join('')).toContain('LOG_FORMAT must be one of text, json (got "bogus")');
  });
});
