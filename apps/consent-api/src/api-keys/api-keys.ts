import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyOfClient } from '@consent-ledger/ledger-commands';
import type { Touchpoint } from '@consent-ledger/domain';
import type { ApiKeyGrant } from '../config';
import { isScope, SCOPES, type Scope } from './scopes';

/** Who is calling, as their API key says. */
export interface ApiClient {
  readonly client: string;
  readonly scopes: ReadonlySet<Scope>;
  /** Undefined: any touchpoint. */
  readonly touchpoints?: ReadonlySet<Touchpoint>;
}

interface StoredKey {
  readonly client: string;
  readonly scopes: readonly Scope[];
  readonly touchpoints?: readonly Touchpoint[];
  readonly keySha256: string;
}

export const GENERATED_KEYS_FILE = 'api-keys.json';

// The one-shot `hash` (Node 20.12) builds no Hash object: `createHash` cost ~7 µs of a
// decision's ~280 µs in the service's profile, when every request paid it.
const sha256 = (text: string): Buffer => hash('sha256', text, 'buffer');

/** The client name of the key `npm start` generates when no keys are configured. */
const GENERATED_ADMIN_CLIENT = 'admin';

/**
 * The API keys the service accepts. Only SHA-256 digests are held: the lookup is by digest, then
 * confirmed with a constant-time comparison, so neither the stored form nor response timing gives
 * a key away.
 */
export class ApiKeys {
  private readonly byDigest: ReadonlyMap<string, { digest: Buffer; client: ApiClient }>;

  private constructor(keys: readonly StoredKey[]) {
    this.byDigest = new Map(
      keys.map((key) => [
        key.keySha256,
        {
          digest: Buffer.from(key.keySha256, 'hex'),
          client: {
            client: key.client,
            scopes: new Set(key.scopes),
            ...(key.touchpoints !== undefined && { touchpoints: new Set(key.touchpoints) }),
          },
        },
      ]),
    );
  }

  /** Each key's digest and the client it answers as: idempotency records are kept per client. */
  clientsOfKeys(): KeyOfClient[] {
    return [...this.byDigest].map(([keySha256, { client }]) => ({ keySha256, client: client.client }));
  }

  static fromGrants(grants: readonly ApiKeyGrant[]): ApiKeys {
    return new ApiKeys(grants.map(({ key, ...grant }) => ({ ...grant, keySha256: sha256(key).toString('hex') })));
  }

  /**
   * With no keys configured: the admin key generated on the first start (all scopes), whose digest
   * is kept in `dataDir`. `announce` is told the key itself once, when it is generated.
   */
  static generatedAdmin(dataDir: string, announce: (message: string) => void): ApiKeys {
    const file = join(dataDir, GENERATED_KEYS_FILE);
    if (existsSync(file)) {
      refuseChangeableByOthers(file);
      announce(`No CONSENT_API_KEYS set: using the admin API key generated earlier (its SHA-256 is in ${file}).`);
      // The generated admin key holds every scope, also those added after the file was written
      // (personal-data:read). Only it: an entry an operator added keeps its own scopes (found in
      // review: a decisions:read key added to the file could erase subjects).
      return new ApiKeys(readStoredKeys(file).map((key) => (key.client === GENERATED_ADMIN_CLIENT ? { ...key, scopes: [...SCOPES] } : key)));
    }
    const key = `cl_${randomBytes(32).toString('base64url')}`;
    const stored: StoredKey = { client: GENERATED_ADMIN_CLIENT, scopes: [...SCOPES], keySha256: sha256(key).toString('hex') };
    // Written aside, then linked into place: the file appears whole or not at all. Processes
    // sharing DATA_DIR and started at one moment all generated a key; all but the first failed to
    // start (EEXIST), or could read the first one's file before it was written (found in review).
    const written = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(written, `${JSON.stringify([stored], null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(written, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return ApiKeys.generatedAdmin(dataDir, announce);
    } finally {
      rmSync(written, { force: true });
    }
    announce(
      [
        'No CONSENT_API_KEYS set: generated an admin API key with every scope. It is shown this once;',
        `only its SHA-256 is kept (${file}). Send it as "Authorization: Bearer <key>":`,
        '',
        `    ${key}`,
        '',
      ].join('\n'),
    );
    return new ApiKeys([stored]);
  }

  clientFor(presentedKey: string): ApiClient | undefined {
    const digest = sha256(presentedKey);
    const known = this.byDigest.get(digest.toString('hex'));
    return known && timingSafeEqual(known.digest, digest) ? known.client : undefined;
  }
}

/**
 * Every key the file lists is accepted, with the scopes it lists: a file group or others may write
 * lets them add a key of their own with every scope. The service writes it 0600; looser, someone
 * changed it, so it is refused rather than tightened, for its entries to be checked first.
 */
function refuseChangeableByOthers(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o022) !== 0) {
    throw new Error(`${file} can be changed by other users (mode ${mode.toString(8)}), and every key it lists is accepted: check its entries, then run chmod 600 on it`);
  }
}

function readStoredKeys(file: string): StoredKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    parsed = undefined;
  }
  const isStoredKey = (value: unknown): value is StoredKey => {
    const key = value as StoredKey;
    return typeof key?.client === 'string' && /^[0-9a-f]{64}$/.test(key.keySha256) && Array.isArray(key.scopes) && key.scopes.every(isScope);
  };
  if (!Array.isArray(parsed) || !parsed.every(isStoredKey)) throw new Error(`${file} is not a list of stored API keys; remove it to generate a new admin key`);
  return parsed;
}
