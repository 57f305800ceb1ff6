import { addDuration, toInstant } from './time';
import type { Instant } from './vocabulary';

describe('reading an instant', () => {
  it('normalises any offset to UTC with milliseconds', () =>
    expect(toInstant('2024-04-30T16:45:00+02:00')).toBe('2024-04-30T14:45:00.000Z'));

  it('accepts the last day of February in a leap year', () => expect(toInstant('2024-02-29T23:59:59.999Z')).toBe('2024-02-29T23:59:59.999Z'));

  it.each(['2024-02-30T10:00:00Z', '2023-02-29T10:00:00Z', '2024-04-31T10:00:00Z', '2024-13-01T10:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T10:60:00Z'])(
    'refuses %s, a moment the calendar does not have, rather than rolling it over',
    (text) => expect(toInstant(text)).toBeUndefined(),
  );

  it('refuses a date-time without a time zone', () => expect(toInstant('2024-05-01T09:00:00')).toBeUndefined());

  it.each(['9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00+01:00'])('refuses %s, which its offset carries out of four-digit years', (text) =>
    expect(toInstant(text)).toBeUndefined(),
  );

  it('accepts the first and last instants of four-digit years', () => {
    expect(toInstant('0000-01-01T00:00:00Z')).toBe('0000-01-01T00:00:00.000Z');
    expect(toInstant('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
  });
});

describe('adding a calendar duration', () => {
  it('lands three years after 29 February on 28 February', () =>
    expect(addDuration('2024-02-29T12:00:00.000Z' as Instant, 'P3Y' as never)).toBe('2027-02-28T12:00:00.000Z'));

  it('adds months within the calendar, clamping to the month end', () =>
    expect(addDuration('2024-01-31T00:00:00.000Z' as Instant, 'P1M' as never)).toBe('2024-02-29T00:00:00.000Z'));
});
