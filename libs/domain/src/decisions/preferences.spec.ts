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
});
