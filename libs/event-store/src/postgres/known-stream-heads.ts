import type { StreamHead } from '../append-planning';

/**
 * The heads of recently read or written streams, as this process last saw them. An append whose
 * expected revision matches a known head can be hashed and written without first reading the head
 * under a lock; the write itself checks that the head has not moved, so a stale entry costs a
 * retry on the slower path, never a wrong chain.
 */
export class KnownStreamHeads {
  private readonly heads = new Map<string, StreamHead>();

  constructor(private readonly capacity: number) {}

  get(streamName: string): StreamHead | undefined {
    return this.heads.get(streamName);
  }

  /** The head as a committed append of this process left it. */
  afterAppend(streamName: string, head: StreamHead): void {
    this.heads.delete(streamName);
    this.heads.set(streamName, head);
    // A Map iterates in insertion order and every update re-inserts, so the first key is the stalest.
    if (this.heads.size > this.capacity) this.heads.delete(this.heads.keys().next().value!);
  }

  /** The head a read found. The read may have started before an append of this process, so it never moves a head back. */
  afterRead(streamName: string, head: StreamHead): void {
    const known = this.heads.get(streamName);
    if (known === undefined || known.revision < head.revision) this.afterAppend(streamName, head);
  }

  forget(streamName: string): void {
    this.heads.delete(streamName);
  }
}
