import { catalogue, given, relationshipEnded, relationshipStarted } from '../testing';
import type { Instant } from '../vocabulary';
import { preferencesOf } from './preferences';

describe('the relationships a preference centre shows', () => {
  // Found in review: an end sent again moved the date shown, though every window still counts from the first.
  it('date a former relationship from when it first ended, however often the end is sent again', () => {
    const { ledger } = given(
      relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2025-01-31T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2025-03-01T00:00:00Z' }),
    );
    expect(preferencesOf(ledger, catalogue, { at: '2025-06-01T00:00:00.000Z' as Instant }).relationships).toEqual([
      expect.objectContaining({ status: 'former', since: '2025-01-31T00:00:00.000Z' }),
    ]);
  });
  // A start sent again later is recorded (a late end dated in between must not undo it), but the
  // customer has been one since the first start: a preference centre or CRM showing "customer
  // since" must not jump to the repeat.
  it('date an active relationship from when it started, however often the start is sent again', () => {
    const { ledger } = given(relationshipStarted({ occurredAt: '2020-05-01T00:00:00Z' }), relationshipStarted({ occurredAt: '2024-06-01T00:00:00Z' }));
    expect(preferencesOf(ledger, catalogue, { at: '2025-06-01T00:00:00.000Z' as Instant }).relationships).toEqual([
      expect.objectContaining({ status: 'active', since: '2020-05-01T00:00:00.000Z' }),
    ]);
  });
  it('date a customer from when a prospect became one, and a returning customer from the return', () => {
    const { ledger } = given(
      relationshipStarted({ relationship: 'prospect', occurredAt: '2019-01-01T00:00:00Z' }),
      relationshipStarted({ relationship: 'customer', occurredAt: '2020-05-01T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2022-01-01T00:00:00Z' }),
      relationshipStarted({ relationship: 'customer', occurredAt: '2024-06-01T00:00:00Z' }),
    );
    expect(preferencesOf(ledger, catalogue, { at: '2025-06-01T00:00:00.000Z' as Instant }).relationships).toEqual([
      expect.objectContaining({ relationship: 'customer', status: 'active', since: '2024-06-01T00:00:00.000Z' }),
    ]);
  });

  // Found in review: with billing's paperwork arriving out of order, the date shown came from the
  // first event to arrive, beside decisions that counted from the contract history.
  it('date a customer from the contracts the paperwork tells of, whatever order it arrived in', () => {
    const at = '2025-06-01T00:00:00.000Z' as Instant;
    const since = (...events: Parameters<typeof given>) => preferencesOf(given(...events).ledger, catalogue, { at }).relationships.map((view) => `${view.status} since ${view.since}`);
    const first = relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' });
    expect(
      since(
        first,
        relationshipStarted({ occurredAt: '2025-01-01T00:00:00Z' }),
        relationshipStarted({ occurredAt: '2023-01-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2024-01-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2022-01-01T00:00:00Z' }),
      ),
    ).toEqual(['active since 2025-01-01T00:00:00.000Z']);
    expect(
      since(first, relationshipEnded({ occurredAt: '2022-01-01T00:00:00Z' }), relationshipEnded({ occurredAt: '2024-01-01T00:00:00Z' }), relationshipStarted({ occurredAt: '2023-01-01T00:00:00Z' })),
    ).toEqual(['former since 2024-01-01T00:00:00.000Z']);
  });

  it('show no relationship for an end dated before every start known, as of an instant before the start', () => {
    const { ledger } = given(relationshipStarted({ occurredAt: '2025-01-01T00:00:00Z' }), relationshipEnded({ occurredAt: '2024-06-01T00:00:00Z' }));
    const asOf = given(relationshipEnded({ occurredAt: '2024-06-01T00:00:00Z' })).ledger;
    expect(preferencesOf(asOf, catalogue, { at: '2024-06-15T00:00:00.000Z' as Instant }).relationships).toEqual([]);
    expect(preferencesOf(ledger, catalogue, { at: '2025-06-01T00:00:00.000Z' as Instant }).relationships).toEqual([expect.objectContaining({ status: 'active', since: '2025-01-01T00:00:00.000Z' })]);
  });
});

describe('the relationships of a former customer recorded again as a prospect', () => {
  it('show the former contract beside the prospect relationship', () => {
    const { ledger } = given(
      relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2025-01-01T00:00:00Z' }),
      relationshipStarted({ relationship: 'prospect', occurredAt: '2026-06-01T00:00:00Z' }),
    );
    expect(preferencesOf(ledger, catalogue, { at: '2026-07-01T00:00:00.000Z' as Instant }).relationships).toEqual([
      { brand: 'proximus', relationship: 'customer', segment: 'residential', status: 'former', since: '2025-01-01T00:00:00.000Z' },
      { brand: 'proximus', relationship: 'prospect', segment: 'residential', status: 'active', since: '2026-06-01T00:00:00.000Z' },
    ]);
  });
});
