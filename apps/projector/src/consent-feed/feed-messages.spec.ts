import { randomBytes } from 'node:crypto';
import type { Instant, Sealed, SubjectId } from '@consent-ledger/domain';
import { catalogue, consentGiven, objectionRaised, relationshipStarted, subjectErased } from '@consent-ledger/domain/testing';
import { readLedgerEvent, type ProjectedEvent } from '@consent-ledger/read-models';
import { viewAfter } from '../../../../libs/read-models/src/testing/project';
import { asStored } from '../../../../libs/read-models/src/testing/stored-events';
import { adsAndDataKeyOf, audienceKeys, audienceMessageOf } from './audience-message';
import { integrationEventOf } from './integration-event';
import { stateMessageOf, timeDrivenMessageIdOf } from './state-message';

const SEALED = 'sealed:v1:key-1:c2VjcmV0' as Sealed;
const projected = (event: Parameters<typeof asStored>[0][number]): ProjectedEvent => {
  const reading = readLedgerEvent(asStored([event])[0]);
  if (reading.kind !== 'ledger') throw new Error('not a ledger event');
  return reading.projected;
};

describe('integration events on consent.events.v1', () => {
  it('carry the fact keyed by the pseudonymous subject id, with its event id and position', () => {
    const message = integrationEventOf(projected(relationshipStarted()));
    expect(message.key).toBe('subject-1');
    expect(JSON.parse(message.value!)).toMatchObject({ schemaVersion: 1, eventId: 'event-1', eventType: 'RelationshipStarted', subjectId: 'subject-1', position: '1', revision: 0 });
    expect(message.headers).toMatchObject({ 'event-id': 'event-1', 'schema-version': '1', position: '1', 'causation-id': 'key-2024-05-01T09:00:00.000Z' });
  });

  it('leave out every sealed field: contact details, justifications, evidence references', () => {
    const consent = consentGiven({ purpose: 'prospect-contact-collection-events', personalData: SEALED, capture: { evidenceRef: SEALED } });
    const objection = objectionRaised({ target: 'myproximus-app-usage-analytics', needsReview: true, justification: SEALED });
    for (const event of [consent, objection]) {
      const value = integrationEventOf(projected(event)).value!;
      expect(value).not.toContain('sealed:');
      expect(JSON.parse(value).data).not.toHaveProperty('personalData');
      expect(JSON.parse(value).data).not.toHaveProperty('justification');
    }
  });

  it('leave out who acted for the subject and why a subject was erased, but keep what kind of actor (and representative) it was', () => {
    const byAgent = consentGiven({ purpose: 'newsletter-customers', capture: { actor: { kind: 'agent', id: 'staff-40213' } } });
    const erased = subjectErased({ basis: 'court order 2025/1234, J. Janssens v. Proximus', capture: { actor: { kind: 'representative', id: 'subject-77', role: 'guardian' } } });
    for (const event of [byAgent, erased]) {
      const value = integrationEventOf(projected(event)).value!;
      expect(value).not.toMatch(/staff-40213|subject-77|Janssens/);
      const { id: _id, ...shared } = event.data.capture.actor;
      expect(JSON.parse(value).data.capture.actor).toEqual(shared);
    }
    expect(JSON.parse(integrationEventOf(projected(erased)).value!).data).not.toHaveProperty('basis');
  });
});

describe('the state on consent.state.v1', () => {
  const cause = { messageId: 'event-2', causationId: 'event-2' };

  it('is the preferences body for the subject, with its position', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'] })]);
    const value = JSON.parse(stateMessageOf(view, catalogue, cause).value!);
    expect(value).toMatchObject({ schemaVersion: 1, subjectId: 'subject-1', position: '2', brand: 'proximus', erased: false });
    expect(value.purposes).toHaveLength(catalogue.purposes.size);
  });

  it('carries the decisions for the other brand of a customer of both, so neither brand reads "not applicable" for its own customer', () => {
    const loyalty = (purposes: { purpose: string }[]) => purposes.find((entry) => entry.purpose === 'enjoy-loyalty-programme');
    const view = viewAfter([relationshipStarted({ brand: 'proximus' }), relationshipStarted({ brand: 'scarlet', occurredAt: '2024-06-01T00:00:00Z' })]);
    const value = JSON.parse(stateMessageOf(view, catalogue, cause).value!);
    expect(value.brand).toBe('scarlet');
    expect(loyalty(value.purposes)).toMatchObject({ allowed: false, reason: 'not-applicable-to-brand' });
    expect(value.otherBrands).toHaveLength(1);
    expect(value.otherBrands[0].brand).toBe('proximus');
    expect(loyalty(value.otherBrands[0].purposes)).toMatchObject({ allowed: true, reason: 'legitimate-interest' });
    expect(JSON.parse(stateMessageOf(viewAfter([relationshipStarted()]), catalogue, cause).value!)).not.toHaveProperty('otherBrands');
  });

  it('carries the decisions for a brand the subject made a choice through, though it has no relationship with it', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ brand: 'scarlet', purpose: 'newsletter-prospects', channels: ['email'], occurredAt: '2024-06-01T00:00:00Z' })]);
    const value = JSON.parse(stateMessageOf(view, catalogue, cause).value!);
    expect(value.brand).toBe('proximus');
    expect(value.otherBrands.map((other: { brand: string }) => other.brand)).toEqual(['scarlet']);
  });

  it('is a tombstone once the subject is erased', () => {
    const view = viewAfter([relationshipStarted(), subjectErased()]);
    expect(stateMessageOf(view, catalogue, cause)).toMatchObject({ key: 'subject-1', value: null, headers: { 'event-id': 'event-2' } });
  });
});

describe('audience memberships', () => {
  const secret = randomBytes(32);
  const cause = { messageId: 'event-2', causationId: 'event-2' };
  const view = viewAfter([relationshipStarted({ subjectId: 'subject-7' as SubjectId }), consentGiven({ subjectId: 'subject-7' as SubjectId, purpose: 'targeted-web-app-advertising-ads-and-data' })]);

  it('key Ads & Data by a keyed hash that is stable for a subject and differs under another secret', () => {
    expect(adsAndDataKeyOf('subject-7', secret)).toBe(adsAndDataKeyOf('subject-7', secret));
    expect(adsAndDataKeyOf('subject-7', secret)).not.toBe(adsAndDataKeyOf('subject-8', secret));
    expect(adsAndDataKeyOf('subject-7', secret)).not.toBe(adsAndDataKeyOf('subject-7', randomBytes(32)));
  });

  it('tell Ads & Data only the membership: no subject id, event id or log position it could link', () => {
    const message = audienceMessageOf(view.audiences.get('ads-and-data')!, view, audienceKeys(secret), cause);
    expect(JSON.parse(message.value!)).toEqual({ schemaVersion: 1, member: true, since: '2024-05-01T09:00:00.000Z', validUntil: null });
    expect(JSON.stringify(message)).not.toMatch(/subject-7|event-2/);
    expect(message.headers).not.toHaveProperty('position');
  });
});

describe('the de-duplication id of a change caused by time', () => {
  const membership = { audience: 'pickx-tv-ads', member: false, since: '2024-06-01T00:00:00Z' as Instant, validUntil: null };
  const idOf = (overrides: Partial<{ sequence: number; subjectId: string; at: Instant; state: string | null; audiences: (typeof membership)[] }> = {}) => {
    const { sequence = 7, subjectId = 'subject-1', at = '2024-06-01T00:00:15Z' as Instant, state = '{"purposes":[]}', audiences = [membership] } = overrides;
    return timeDrivenMessageIdOf(sequence, subjectId, at, state, audiences);
  };

  it('is the same for the same change computed again, so a consumer rightly drops the repeat', () => {
    expect(idOf()).toBe(idOf());
    expect(idOf()).toMatch(/^time-[0-9a-f]{32}$/);
  });

  it('differs for another outbox row, another subject, another instant, another state or another membership', () => {
    const ids = [
      idOf(),
      idOf({ sequence: 8 }),
      idOf({ subjectId: 'subject-2' }),
      idOf({ at: '2024-06-01T00:00:30Z' as Instant }),
      idOf({ state: '{"purposes":[{"allowed":false}]}' }),
      idOf({ audiences: [{ ...membership, member: true }] }),
      idOf({ audiences: [] }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});
