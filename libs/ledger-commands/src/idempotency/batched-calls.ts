interface PendingCall<Input, Output> {
  readonly input: Input;
  resolve(output: Output): void;
  reject(error: unknown): void;
}

export interface BatchedCallsOptions {
  /** Batches running at once. A call waits only while every slot is busy, and then joins the next batch. */
  readonly maxInFlight: number;
  readonly maxBatchSize: number;
  /**
   * `when-idle`: start at once when a slot is free (asynchronous drivers). `next-turn`: wait one
   * event-loop turn first, so callers of a synchronous driver still share a batch.
   */
  readonly collect: 'when-idle' | 'next-turn';
}

/**
 * Lets concurrent callers share one database round trip: `runBatch` answers many inputs at once,
 * in order. Under load this turns a query per request into a query per batch.
 */
export class BatchedCalls<Input, Output> {
  private readonly waiting: PendingCall<Input, Output>[] = [];
  private inFlight = 0;
  private isTurnScheduled = false;

  constructor(
    private readonly runBatch: (inputs: readonly Input[]) => Promise<readonly Output[]>,
    private readonly options: BatchedCallsOptions,
  ) {}

  call(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.options.collect === 'when-idle') return this.startBatches();
    if (this.isTurnScheduled) return;
    this.isTurnScheduled = true;
    setImmediate(() => {
      this.isTurnScheduled = false;
      this.startBatches();
    });
  }

  private startBatches(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatchSize);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        if (this.waiting.length > 0) this.schedule();
      });
    }
  }

  private async run(batch: PendingCall<Input, Output>[]): Promise<void> {
    try {
      const outputs = await this.runBatch(batch.map((pending) => pending.input));
      batch.forEach((pending, index) => pending.resolve(outputs[index]));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
