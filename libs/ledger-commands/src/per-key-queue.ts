/**
 * Runs work for one key after the previous work for the same key has settled; different keys run
 * concurrently. Used so that one process never races itself on a subject or an idempotency key.
 */
export class PerKeyQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const current = previous ? previous.then(work) : work();
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
