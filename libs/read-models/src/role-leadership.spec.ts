import { leadRole } from './role-leadership';
import type { ReadModelStorage } from './storage/read-model-storage';

/** Only the lease calls matter here; the storage answers them from a variable. */
function leaseStorage(holds: () => boolean): ReadModelStorage {
  return { tryLease: async () => holds(), releaseLease: async () => undefined } as unknown as ReadModelStorage;
}

describe('leading a role by lease', () => {
  it('knows how long it still holds the lease, and stops trusting it once paused past it', async () => {
    let clock = 1_000;
    const role = leadRole({
      storage: leaseStorage(() => true),
      role: 'consent-feed',
      holder: 'a',
      ttlMs: 9_000,
      renewEveryMs: 60_000,
      now: () => clock,
      onElected: () => undefined,
      onDeposed: () => undefined,
    });
    try {
      await role.firstAttempt;
      expect(role.isLeader).toBe(true);
      expect(role.holdsLeaseFor(3_000)).toBe(true);

      // A pause: no renewal ran, and the database's expiry is as near as it was.
      clock += 7_000;
      expect(role.isLeader).toBe(true);
      expect(role.holdsLeaseFor(3_000)).toBe(false);
      expect(role.holdsLeaseFor(500)).toBe(true);
    } finally {
      await role.stop();
    }
  });

  it('holds nothing while it is not the leader', async () => {
    const role = leadRole({
      storage: leaseStorage(() => false),
      role: 'consent-feed',
      holder: 'b',
      renewEveryMs: 60_000,
      onElected: () => undefined,
      onDeposed: () => undefined,
    });
    try {
      await role.firstAttempt;
      expect(role.holdsLeaseFor(0)).toBe(false);
    } finally {
      await role.stop();
    }
  });
});
