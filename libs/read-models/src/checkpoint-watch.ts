import type { GlobalPosition } from '@consent-ledger/event-store';

/** The read models have not applied the log up to a position a question needs: ask again shortly. */
export class ReadModelsBehind extends Error {
  constructor(
    readonly position: GlobalPosition,
    readonly reached: GlobalPosition,
    message = `the read models have applied the log up to ${reached}, not ${position} (a rebuild under way)`,
  ) {
    super(message);
    this.name = 'ReadModelsBehind';
  }
}

export class CheckpointTimeout extends ReadModelsBehind {
  constructor(position: GlobalPosition, reached: GlobalPosition, readonly timeoutMs: number) {
    super(position, reached, `the read models had applied the log up to ${reached}, not ${position}, after ${timeoutMs} ms`);
    this.name = 'CheckpointTimeout';
  }
}

interface Waiter {
  readonly position: GlobalPosition;
  resolve(): void;
}

/**
 * Wakes callers of `waitFor` when the checkpoint reaches their position. Moves are reported by the
 * in-process runner and, across processes, by PostgreSQL NOTIFY; where neither can report (another
 * process writing the same SQLite file), it reads the checkpoint every few milliseconds while
 * someone waits, and where NOTIFY can, every second or so, in case its connection was lost.
 */
export class CheckpointWatch {
  private reached: GlobalPosition = 0n;
  private readonly waiters = new Set<Waiter>();
  private pollTimer?: NodeJS.Timeout;

  constructor(
    private readonly read: () => Promise<GlobalPosition>,
    private readonly pollIntervalMs: number,
  ) {}

  get known(): GlobalPosition {
    return this.reached;
  }

  moved(position: GlobalPosition): void {
    if (position <= this.reached) return;
    this.reached = position;
    for (const waiter of [...this.waiters]) if (waiter.position <= position) waiter.resolve();
  }

  /** After a rebuild emptied the tables: positions up to here must be applied again. */
  rewind(position: GlobalPosition): void {
    this.reached = position;
  }

  /** The checkpoint as just read from storage: forward like `moved`, backward like `rewind`. */
  observed(position: GlobalPosition): void {
    if (position < this.reached) this.rewind(position);
    else this.moved(position);
  }

  /** `ready`: what must be in place before the checkpoint is read, such as a LISTEN being opened. */
  async waitFor(position: GlobalPosition, timeoutMs: number, ready?: Promise<void>): Promise<void> {
    if (position <= this.reached) return;
    let waiter!: Waiter;
    let timer!: NodeJS.Timeout;
    const reached = new Promise<void>((resolve, reject) => {
      waiter = { position, resolve };
      timer = setTimeout(() => reject(new CheckpointTimeout(position, this.reached, timeoutMs)), timeoutMs);
    });
    reached.catch(() => undefined);
    // Registered before reading, so a move between the read and the wait still wakes the caller.
    this.waiters.add(waiter);
    this.ensurePolling();
    try {
      if (ready) await Promise.race([ready, reached]);
      this.moved(await this.read());
      await reached;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(waiter);
      if (this.waiters.size === 0) this.stopPolling();
    }
  }

  close(): void {
    this.stopPolling();
  }

  private ensurePolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      this.read().then(
        (position) => this.moved(position),
        () => undefined,
      );
    }, this.pollIntervalMs);
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
