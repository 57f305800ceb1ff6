import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { COMPILED_MAIN, type ServiceProcess, startServiceProcess } from './testing/service-process';
import { callApi, REPOSITORY_ROOT, TEST_KEYS } from './testing/test-api';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ANSI_ESCAPE = '\u001b[';

/** Each line a log shipper reads, parsed; a line that is no JSON object fails the test, naming it. */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`a log line is not JSON: ${line}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`a log line is not a JSON object: ${line}`);
      return parsed as Record<string, unknown>;
    });
}

/** Runs the compiled API until it exits by itself, or ends it after 10 s (null: it went on running). */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [COMPILED_MAIN], { cwd: REPOSITORY_ROOT, env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stillRunning = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(stillRunning);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The compiled API as a log shipper meets it, with LOG_FORMAT=json. */
describe('the API writing its log as JSON lines', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'log-format-'));
    service = undefined;
  });
  afterEach(async () => {
    await service?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes one JSON object per line, with a UTC time, level, context and message, the request id of a line written for a request, and an error\'s stack inside its line', async () => {
    // No keys configured: the generated admin key's notice is several lines of text.
    service = await startServiceProcess({ DATA_DIR: dataDir, LOG_FORMAT: 'json' });
    const adminKey = /cl_[A-Za-z0-9_-]{20,}/.exec(service.output())![0];
    const call = (path: string, headers: Record<string, string> = {}) => callApi(service!.url, 'GET', path, { key: adminKey, headers });
    expect((await call('/v1/subjects/cust-log-0001/history')).status).toBe(200);

    // A fault of ours, logged with its stack: the log's table gone from under the service.
    const events = new Database(join(dataDir, 'events.sqlite'));
    events.exec('ALTER TABLE events RENAME TO events_aside');
    events.close();
    const failed = await call('/v1/subjects/cust-log-0001/history', { 'x-request-id': 'call-centre-0500' });
    expect([failed.status, failed.headers.get('x-request-id'), failed.body.requestId]).toEqual([500, 'call-centre-0500', 'call-centre-0500']);
    const { errorId } = failed.body as { errorId: string };
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await service.kill('SIGTERM');

    const output = service.output();
    expect(output).not.toContain(ANSI_ESCAPE);
    const lines = jsonLines(output);
    for (const line of lines) {
      expect(line).toMatchObject({ timestamp: expect.stringMatching(ISO_UTC), level: expect.stringMatching(/^(log|warn|error|fatal)$/), context: expect.any(String), message: expect.any(String) });
    }
    expect(lines).toContainEqual(expect.objectContaining({ level: 'log', context: 'consent-api', message: expect.stringMatching(/generated an admin API key[\s\S]*cl_/) }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'log', message: expect.stringContaining('listening on http://127.0.0.1:') }));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        context: 'consent-api',
        message: `unexpected error ${errorId}`,
        requestId: 'call-centre-0500',
        stack: expect.stringMatching(/^SqliteError: no such table: events\n\s+at /),
      }),
    );
    // The projections in the process failed too, and said so in their own lines, which no request wrote.
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', context: 'read-models', stack: expect.stringContaining('no such table: events') }));
    expect(lines.filter((line) => 'requestId' in line).map(({ message }) => message)).toEqual([`unexpected error ${errorId}`]);
    expect(output).not.toContain('cust-log-0001');
  }, 60_000);

  it('writes a refused setting as a JSON line too', async () => {
    const { code, stdout, stderr } = await runToExit({ DATA_DIR: dataDir, LOG_FORMAT: 'json', PORT: 'eighty' });
    expect(code).toBe(78);
    expect(stdout).toBe('');
    expect(jsonLines(stderr)).toEqual([
      expect.objectContaining({ timestamp: expect.stringMatching(ISO_UTC), level: 'fatal', context: 'consent-api', message: expect.stringMatching(/cannot start: the configuration is invalid:\n {2}- PORT/) }),
    ]);
  });

  it('refuses a LOG_FORMAT it does not know with the configuration exit code, naming the setting', async () => {
    const { code, stderr } = await runToExit({ DATA_DIR: dataDir, LOG_FORMAT: 'bogus', CONSENT_API_KEYS: JSON.stringify([{ key: TEST_KEYS.admin, client: 'admin', scopes: ['commands:write'] }]) });
    expect(code).toBe(78);
    expect(stderr).toContain('LOG_FORMAT must be one of text, json (got "bogus")');
  });
});
