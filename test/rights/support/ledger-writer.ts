import { type Catalogue, type Instant, loadCatalogue } from '@consent-ledger/domain';
import type { EventStore } from '@consent-ledger/event-store';
import {
  CommandIntake,
  type HandledCommand,
  InMemoryIdempotencyRecords,
  LedgerStreams,
} from '@consent-ledger/ledger-commands';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CATALOGUE_FILE = join(__dirname, '../../../catalogues/proximus.json');
export const catalogue: Catalogue = loadCatalogue(JSON.parse(readFileSync(CATALOGUE_FILE, 'utf8')));

/**
 * Records commands the way `POST /v1/commands` does (checks, sealing, decide, append), for tests
 * that need a real ledger in a real store without the HTTP app. `clock` is the edge's clock.
 */
export class LedgerWriter {
  private readonly intake: CommandIntake;

  constructor(store: EventStore, vault: PersonalDataVault, clock: { now(): Instant }) {
    this.intake = new CommandIntake({
      catalogue,
      vault,
      idempotencyRecords: new InMemoryIdempotencyRecords(),
      ledgerStreams: new LedgerStreams(store, catalogue),
      now: () => clock.now(),
    });
  }

  async record(json: Record<string, unknown>): Promise<HandledCommand> {
    const checked = this.intake.check(json);
    if (checked.errors) throw new Error(`refused command ${JSON.stringify(json)}: ${JSON.stringify(checked.errors)}`);
    const outcome = await this.intake.execute(checked.value, { client: 'test-channel', requestFingerprint: this.intake.fingerprintOf(json) });
    if (outcome.status >= 400) throw new Error(`command ${String(json.type)} answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
    return outcome.body as HandledCommand;
  }
}

/** A clock a test moves by hand. */
export class ManualClock {
  constructor(private instant: string) {}
  now(): Instant {
    return new Date(this.instant).toISOString() as Instant;
  }
  set(instant: string): void {
    this.instant = instant;
  }
}
