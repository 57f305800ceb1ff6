import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DeploymentLog, GlobalPosition } from '@consent-ledger/event-store';
import {
  createPersonalDataVault,
  KeyStoreMissing,
  loadOrCreateDevMasterKey,
  MasterKeyMissing,
  type PersonalDataVault,
  type PersonalDataVaultConfig,
  readDevMasterKey,
  type ScrubLog,
} from '@consent-ledger/personal-data';

/** What locates a deployment's personal-data keys: the same for the API, the projector and the auditor CLI. */
export interface VaultDeployment {
  readonly eventStore: DeploymentLog['eventStore'];
  /** `keys.sqlite` and, without MASTER_KEY, the development `master.key`. */
  readonly dataDir: string;
  /** The `personal_data_keys` table, with `postgres` and `kurrentdb`. */
  readonly databaseUrl?: string;
  readonly masterKey?: Buffer;
}

/** How a process opens the vault, beyond where it is. */
export interface VaultOpening {
  /** Open only a key store and master key that exist. */
  readonly existingOnly?: boolean;
  /** For a service's commands: how long a seal waits for PostgreSQL's answer (the API's DATABASE_ANSWER_TIMEOUT_SECONDS). */
  readonly answerTimeoutMs?: number;
  /** For the auditor CLI: how long any statement may wait on a PostgreSQL that is silent (DATABASE_ANSWER_TIMEOUT_SECONDS). */
  readonly silenceTimeoutMs?: number;
  /** Where a PostgreSQL key store says that destroyed keys' bytes stay on disk for now, and why. */
  readonly log?: ScrubLog;
}

/**
 * Where the personal-data keys live (apart from the log on purpose). `existingOnly`: open only a
 * key store and master key that exist: a reader given a copy of the log, which never comes with
 * the keys (ADR 0006), must fail rather than make a master key and an empty key store, which
 * open nothing.
 */
export function vaultConfigOf(deployment: VaultDeployment, { existingOnly = false, answerTimeoutMs, silenceTimeoutMs, log }: VaultOpening = {}): PersonalDataVaultConfig {
  const keysFile = join(deployment.dataDir, 'keys.sqlite');
  // Before the master key: the missing key store is the cause, the missing master key only follows from it.
  if (existingOnly && deployment.eventStore === 'sqlite' && !existsSync(keysFile)) throw new KeyStoreMissing(keysFile);
  const masterKeyFile = join(deployment.dataDir, 'master.key');
  const masterKey = deployment.masterKey ?? (existingOnly ? readDevMasterKey(masterKeyFile) : loadOrCreateDevMasterKey(masterKeyFile));
  return deployment.eventStore === 'sqlite'
    ? { kind: 'sqlite', file: keysFile, masterKey, existingOnly }
    : { kind: 'postgres', url: deployment.databaseUrl!, masterKey, existingOnly, answerTimeoutMs, silenceTimeoutMs, log };
}

/** A service started on a log that holds events, without the key store (or master key) those events were sealed with. */
export class KeyStoreLost extends Error {
  constructor(readonly missing: KeyStoreMissing | MasterKeyMissing) {
    super(
      `${missing.message}, yet the log already holds events: a new key store would leave every subject's sealed personal data unreadable ` +
        '(exports would say "unreadable", with no erasure recorded), and keys made from now on would differ from those of the old store if it came back. ' +
        'Restore the key store from its backup: keys.sqlite and master.key in DATA_DIR (or MASTER_KEY) in the embedded mode, the personal_data_keys table ' +
        'with PostgreSQL. The service makes a key store only on a log that holds no event yet (docs/decisions/0006).',
    );
    this.name = 'KeyStoreLost';
  }
}

/**
 * Opens the vault a service (API or projector) seals and opens personal data with. On a log that
 * holds no event yet it creates the key store and (without MASTER_KEY) a development master key;
 * once the log holds events it opens only those that exist: found in review, a missing
 * `keys.sqlite` was silently replaced by an empty one.
 */
export async function openServiceVault(
  deployment: VaultDeployment,
  log: { headPosition(): Promise<GlobalPosition> },
  opening: Pick<VaultOpening, 'answerTimeoutMs' | 'log'> = {},
): Promise<PersonalDataVault> {
  const existingOnly = (await log.headPosition()) > 0n;
  try {
    return await createPersonalDataVault(vaultConfigOf(deployment, { ...opening, existingOnly }));
  } catch (error) {
    if (error instanceof KeyStoreMissing || error instanceof MasterKeyMissing) throw new KeyStoreLost(error);
    throw error;
  }
}
