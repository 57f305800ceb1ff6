import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createConsentApi } from '../consent-api';
import { testConfig } from '../testing/test-api';

// Found in review: "file is not a database", a raw JSON error, or "MASTER_KEY must decode to 32
// bytes" with MASTER_KEY unset: the operator could not tell which file of DATA_DIR to restore.
describe('a damaged file in the data directory', () => {
  it.each([
    ['state.sqlite', {}, /cannot open the (read models|idempotency records) at .*state\.sqlite/],
    ['api-keys.json', { apiKeys: undefined }, /api-keys\.json is not a list of stored API keys/],
    ['master.key', { masterKey: undefined }, /the development master key .*master\.key must/],
  ] as const)('is named when the service cannot start on a damaged %s', async (file, overrides, named) => {
    const config = testConfig({ ...overrides });
    const quiet = { logger: false as const, announce: () => undefined };
    let app: INestApplication | undefined = await createConsentApi(config, quiet);
    await app.close();
    try {
      writeFileSync(join(config.dataDir, file), 'this is not what it should be\n', { mode: 0o600 });
      app = undefined;
      await expect(createConsentApi(config, quiet).then((started) => (app = started))).rejects.toThrow(named);
    } finally {
      await app?.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    }
  });
});
