import { type EventStore, type GlobalPosition, START, type StoredEvent } from '@consent-ledger/event-store';

export interface LogCatchUpOptions {
  /**
   * Runs before the first read of the log (again after a failure): reads by other means, e.g. the
   * streams it needs by name, what the log held up to a position, and returns that position, from
   * which the log is then followed. Without it the first catch-up reads the whole log, hundreds of
   * millions of events at national scale for a reader that needs a few thousand.
   */
  readonly begin?: () => Promise<GlobalPosition>;
  readonly pageSize?: number;
}

/**
 * Reads the log onward from where the last catch-up stopped, a page at a time, handing each event
 * to `apply`: keeps an index in memory current with what was appended since it was built.
 */
export class LogCatchUp {
  private after?: GlobalPosition;
  private running?: Promise<void>;
  private again?: Promise<void>;
  private readonly pageSize: number;

  constructor(
    private readonly store: EventStore,
    private readonly apply: (event: StoredEvent) => void,
    private readonly options: LogCatchUpOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 5000;
  }

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
    this.after ??= this.options.begin ? await this.options.begin() : START;
    for (;;) {
      const page = await this.store.readAll({ after: this.after, maxCount: this.pageSize });
      for (const event of page) this.apply(event);
      if (page.length > 0) this.after = page[page.length - 1].position;
      if (page.length < this.pageSize) return;
    }
  }
}
