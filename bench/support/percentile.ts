/**
 * The nearest-rank percentile of values sorted ascending (`fraction` 0.99 for p99): the smallest
 * value that at least that share of the values is at or below. NaN when there are none. One rule
 * for every benchmark, so their p99s compare.
 */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}

export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}
