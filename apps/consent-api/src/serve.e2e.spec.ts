import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Served, serve } from './serve';

/** `npm start` as an operator meets it: what it prints, and how it exits when it cannot run. */
describe('starting the API from the environment', () => {
  let dataDir: string;
  let stdout: string;
  let stderr: string;
  let served: Served | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'serve-'));
    stdout = '';
    stderr = '';
    served = undefined;
  });
  afterEach(async () => {
    if (served && 'app' in served) await served.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>) =>
    (served = await serve({ DATA_DIR: dataDir, ...env }, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } }));
  const occupied = (): Promise<Server & { port: number }> =>
    new Promise((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(Object.assign(server, { port: (server.address() as { port: number }).port })));
    });

  it('refuses a port already taken before it generates, shows or keeps an admin key', async () => {
    const other = await occupied();
    try {
      // Exit 1: a port the replaced process still holds frees itself, and supervisors restart on 1.
      expect(await start({ PORT: String(other.port) })).toEqual({ exitCode: 1 });
    } finally {
      other.close();
    }
    expect(stderr).toContain(`cannot listen on 127.0.0.1:${other.port} (EADDRINUSE)`);
    expect(stdout).toBe('');
    expect(existsSync(join(dataDir, 'api-keys.json'))).toBe(false);

    // Once the port is free, the first start that serves is the one that shows the key.
    const answer = await start({ PORT: String(other.port) });
    expect('app' in answer).toBe(true);
    expect(stdout).toMatch(/generated an admin API key[\s\S]*cl_[A-Za-z0-9_-]{20,}/);
    expect(stdout).toContain(`listening on http://127.0.0.1:${other.port}`);
  });

  it('refuses an address that is not this machine\'s with the configuration exit code', async () => {
    // TEST-NET-3 (RFC 5737): never assigned to a host.
    expect(await start({ HOST: '203.0.113.7', PORT: '0' })).toEqual({ exitCode: 78 });
    expect(stderr).toMatch(/cannot listen on 203\.0\.113\.7:0 \(EADDRNOTAVAIL\): set HOST/);
    expect(existsSync(join(dataDir, 'api-keys.json'))).toBe(false);
  });

  // Found in review: a key named "cc" on one process and "cc-renamed" on another recorded one
  // command twice, as idempotency keys are kept per client.
  it('refuses a key the records know under another client name, naming both names and not the key', async () => {
    const key = 'k'.repeat(32);
    const keys = (client: string) => JSON.stringify([{ key, client, scopes: ['commands:write'] }]);
    const first = await start({ PORT: '0', CONSENT_API_KEYS: keys('call-centre') });
    expect('app' in first).toBe(true);
    if ('app' in first) await first.app.close();

    expect(await start({ PORT: '0', CONSENT_API_KEYS: keys('call-centre-emea') })).toEqual({ exitCode: 78 });
    expect(stderr).toContain('gives client "call-centre-emea" a key that was given to client "call-centre" before');
    expect(stderr).not.toContain(key);
    served = undefined;

    const again = await start({ PORT: '0', CONSENT_API_KEYS: keys('call-centre') });
    expect('app' in again).toBe(true);
  });

  // Found in review: a catalogue file missing or invalid ended the start with 1, a crash a
  // supervisor restarts for ever, though it is a setting to fix like any variable.
  it('exits with the configuration code for a catalogue file it cannot use, before it generates a key', async () => {
    const invalid = join(dataDir, 'catalogue.json');
    writeFileSync(invalid, JSON.stringify({ catalogueVersion: 'draft' }));

    expect(await start({ PORT: '0', CATALOGUE_FILE: join(dataDir, 'missing.json') })).toEqual({ exitCode: 78 });
    expect(stderr).toMatch(/cannot start: the purpose catalogue is invalid:\n {2}- cannot read .*missing\.json \(set CATALOGUE_FILE\)/);
    expect(await start({ PORT: '0', CATALOGUE_FILE: invalid })).toEqual({ exitCode: 78 });
    expect(stderr).toMatch(/the purpose catalogue .*catalogue\.json is invalid:\n {2}- \$\.noticeVersion: must be non-empty text/);
    expect(existsSync(join(dataDir, 'api-keys.json'))).toBe(false);
  });

  it('exits with the same code as the projector for a setting it cannot read', async () => {
    expect(await start({ PORT: 'eighty' })).toEqual({ exitCode: 78 });
    expect(stderr).toMatch(/Consent Ledger API cannot start: the configuration is invalid:\n {2}- PORT/);
  });
});
