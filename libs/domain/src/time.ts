import type { Instant } from './vocabulary';

/**
 * Calendar durations in ISO-8601 form (`P3Y`, `P5Y`, `P1M`, `P90D`, `P2Y6M`). Retention and
 * validity rules in the privacy statement are stated in years and months, so they are added in
 * calendar terms (3 years after 29 Feb lands on 28 Feb), not as a fixed number of milliseconds.
 */
export type Duration = string & { readonly __brand: 'Duration' };

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const isDuration = (value: unknown): value is Duration =>
  typeof value === 'string' && value !== 'P' && DURATION.test(value);

/** True for the normalised form only; use `toInstant` to normalise other ISO-8601 inputs. */
export const isInstant = (value: unknown): value is Instant =>
  typeof value === 'string' && INSTANT.test(value) && !Number.isNaN(Date.parse(value));

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Normalises any ISO-8601 date-time with an explicit offset to an Instant, or returns undefined.
 * Only days the calendar has: `Date.parse` quietly rolls 30 February over to 1 March, which would
 * record a choice on a day nobody gave.
 */
export function toInstant(value: string | Date): Instant | undefined {
  if (typeof value === 'string') {
    const parts = DATE_TIME.exec(value);
    if (!parts) return undefined;
    const [year, month, day, hour, minute, second] = [parts[1], parts[2], parts[3], parts[4], parts[5], parts[7] ?? '0'].map(Number);
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  }
  const millis = typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (Number.isNaN(millis)) return undefined;
  const instant = new Date(millis).toISOString();
  // Instants are compared as text, which holds only for four-digit years: an offset can carry
  // 9999-12-31T23:59-23:59 into year +010000, and 0000-01-01T00:00+01:00 back to -000001.
  return INSTANT.test(instant) ? (instant as Instant) : undefined;
}

export function addDuration(instant: Instant, duration: Duration): Instant {
  const match = DURATION.exec(duration);
  if (!match) throw new Error(`not an ISO-8601 duration: ${duration}`);
  const [, years = '0', months = '0', days = '0'] = match;
  const start = new Date(instant);
  const totalMonths = start.getUTCMonth() + Number(months) + 12 * Number(years);
  const targetYear = start.getUTCFullYear() + Math.floor(totalMonths / 12);
  const targetMonth = totalMonths % 12;
  // Clamp to the last day of the target month: 31 Jan + 1 month is 28/29 Feb, not 3 Mar.
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  const shifted = Date.UTC(
    targetYear,
    targetMonth,
    Math.min(start.getUTCDate(), lastDay),
    start.getUTCHours(),
    start.getUTCMinutes(),
    start.getUTCSeconds(),
    start.getUTCMilliseconds(),
  );
  return new Date(shifted + Number(days) * 86_400_000).toISOString() as Instant;
}

/**
 * How far ahead of our clock a channel's or clerk's clock may run. A little skew is normal; an
 * instant further in the future is a broken clock or a forged timestamp, and would let a choice
 * outrank ones made later. Within it, the instant is stamped on arrival and the stated one kept.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export const earliest = (...instants: readonly (Instant | undefined)[]): Instant | undefined =>
  instants.reduce<Instant | undefined>((min, each) => (each !== undefined && (min === undefined || each < min) ? each : min), undefined);

export const latest = (...instants: readonly (Instant | undefined)[]): Instant | undefined =>
  instants.reduce<Instant | undefined>((max, each) => (each !== undefined && (max === undefined || each > max) ? each : max), undefined);
