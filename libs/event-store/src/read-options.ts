import { START, type GlobalPosition, type ReadAllOptions, type ReadStreamOptions } from './event-store.port';

export interface StreamRange {
  readonly direction: 'forwards' | 'backwards';
  /** Inclusive; undefined means the stream's first (forwards) or last (backwards) revision. */
  readonly fromRevision?: number;
  /** Undefined means no limit. */
  readonly maxCount?: number;
}

export interface LogRange {
  readonly after: GlobalPosition;
  readonly maxCount?: number;
}

export function toStreamRange(streamName: string, options: ReadStreamOptions = {}): StreamRange {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('stream name must be a non-empty string');
  }
  const direction = options.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards') {
    throw new TypeError(`read direction must be 'forwards' or 'backwards', not ${String(direction)}`);
  }
  assertCount('fromRevision', options.fromRevision);
  assertCount('maxCount', options.maxCount);
  return { direction, fromRevision: options.fromRevision, maxCount: options.maxCount };
}

export function toLogRange(options: ReadAllOptions = {}): LogRange {
  const after = options.after ?? START;
  if (typeof after !== 'bigint' || after < START) throw new TypeError('after must be a non-negative bigint position');
  assertCount('maxCount', options.maxCount);
  return { after, maxCount: options.maxCount };
}

function assertCount(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
    throw new TypeError(`${name} must be a non-negative integer, not ${String(value)}`);
  }
}
