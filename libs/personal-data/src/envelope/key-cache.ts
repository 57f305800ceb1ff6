/**
 * Unwrapped data keys kept in memory so a read of a subject's history does not unwrap once per
 * value. Bounded in size (least recently used goes first) and in age: another process that
 * destroyed a key is obeyed here at the latest `ttlMs` later. This process's own `destroyKey`
 * evicts at once.
 */
export interface CachedKey {
  readonly keyId: string;
  readonly key: Buffer;
}

export interface KeyCacheOptions {
  readonly maxEntries?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class KeyCache {
  private readonly entries = new Map<string, { value: CachedKey; cachedAt: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor({ maxEntries = 10_000, ttlMs = 30_000, now = Date.now }: KeyCacheOptions = {}) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  get(subjectId: string): CachedKey | undefined {
    const entry = this.entries.get(subjectId);
    if (!entry) return undefined;
    this.entries.delete(subjectId);
    if (this.now() - entry.cachedAt >= this.ttlMs) return undefined;
    this.entries.set(subjectId, entry);
    return entry.value;
  }

  set(subjectId: string, value: CachedKey): void {
    this.entries.delete(subjectId);
    this.entries.set(subjectId, { value, cachedAt: this.now() });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  evict(subjectId: string): void {
    this.entries.delete(subjectId);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
