import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore, type EventStoreConfig } from './create-event-store';

describe('creating an event store from config', () => {
  it('opens the embedded SQLite store on a file, creating its directory', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-config-'));
    try {
      const store = await createEventStore({ kind: 'sqlite', file: join(directory, 'data', 'events.sqlite') });

      expect(store.kind).toBe('sqlite');
      expect(await store.health()).toEqual({ ready: true });
      await store.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('opens an in-memory store for tests', async () => {
    const store = await createEventStore({ kind: 'in-memory' });

    expect(store.kind).toBe('in-memory');
    await store.close();
  });

  it('refuses a kind it does not know', async () => {
    await expect(createEventStore({ kind: 'mongodb' } as unknown as EventStoreConfig)).rejects.toThrow(TypeError);
  });
});
