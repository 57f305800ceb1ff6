import { type EventStore, type GlobalPosition, START, type StoredEvent } from '@consent-ledger/event-store';

/**
 * Reads the log onward from where the last catch-up stopped, a page at a time, handing each event
 * to `apply`. The port offers no listing of streams, so the services that need one (rights
 * requests due soon, subjects to check for retention) keep their own small index this way; the
 * first catch-up reads the whole log, later ones only what was appended since.
 */
export class LogCatchUp {
  private after: GlobalPosition = START;
  private running?: Promise<void>;
  private again?: Promise<void>;

  constructor(
    private readonly store: EventStore,
    private readonly apply: (event: StoredEvent) => void,
    private readonly pageSize = 5000,
  ) {}

  /** Resolves once every event committed before the call has been applied. */
  catchUp(): Promise<void> {
    if (!this.running) {
      this.running = this.readToHead().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // A catch-up under way may have passed the head already: run one more after it.
    this.again ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.again = undefined;
        return this.catchUp();
      });
    return this.again;
  }

  private async readToHead(): Promise<void> {
    for (;;) {
      const page = await this.store.readAll({ after: this.after, maxCount: this.pageSize });
      for (const event of page) this.apply(event);
      if (page.length > 0) this.after = page[page.length - 1].position;
      if (page.length < this.pageSize) return;
    }
  }
}
