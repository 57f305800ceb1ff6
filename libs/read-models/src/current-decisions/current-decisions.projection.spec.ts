import { catalogue, channelRestricted, consentGiven, consentWithdrawn, relationshipEnded, relationshipStarted, sourceOptedOut, subjectErased } from '@consent-ledger/domain/testing';
import { loadCatalogue } from '@consent-ledger/domain';
import { project, reevaluated, viewAfter } from '../testing/project';
import { decisionRowsOf, isSameDecisionRow } from './current-decisions.projection';

const PICKX = 'targeted-tv-advertising-pickx';
const rowFor = (purpose: string, view: Parameters<typeof decisionRowsOf>[0]) => decisionRowsOf(view, catalogue).find((row) => row.purpose === purpose)!;

describe('current decision per subject and purpose', () => {
  it('has one row per purpose of the catalogue for a subject', () => {
    const view = viewAfter([relationshipStarted()]);
    expect(decisionRowsOf(view, catalogue)).toHaveLength(catalogue.purposes.size);
  });

  it('allows targeted TV advertising to a customer who consented, on the channel the consent covers', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'] })]);
    expect(rowFor(PICKX, view)).toMatchObject({
      allowed: true,
      reason: 'consent-active',
      legalBasis: 'consent',
      consentedChannels: ['tv-screen'],
      validUntil: null,
    });
  });

  it('says why it is not allowed once the consent is withdrawn', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'] }),
      consentWithdrawn({ purpose: PICKX, occurredAt: '2024-06-01T09:00:00Z' }),
    ]);
    expect(rowFor(PICKX, view)).toMatchObject({ allowed: false, reason: 'consent-withdrawn', consentedChannels: [] });
  });

  it('shows a channel restriction and a source opt-out on the purposes they narrow', () => {
    const view = viewAfter([relationshipStarted(), channelRestricted({ channel: 'sms' }), sourceOptedOut({ source: 'tv-viewing' })]);
    expect(rowFor('direct-marketing-customers-phone-email', view)).toMatchObject({ allowed: true, restrictedChannels: ['sms'] });
    expect(rowFor('pickx-personalised-recommendations-promotion', view)).toMatchObject({ optedOutSources: ['tv-viewing'] });
  });

  it('does not let an SMS restriction touch an invoice sent under the contract', () => {
    const view = viewAfter([relationshipStarted(), channelRestricted({ channel: 'sms' })]);
    expect(rowFor('billing-accounting', view)).toMatchObject({ allowed: true, reason: 'contract', restrictedChannels: [] });
  });

  it('keeps a former customer in direct marketing until the five-year window closes, and says until when', () => {
    const view = viewAfter([relationshipStarted(), relationshipEnded({ occurredAt: '2024-06-01T00:00:00Z' })]);
    expect(rowFor('direct-marketing-customers-phone-email', view)).toMatchObject({
      allowed: true,
      validUntil: '2029-06-01T00:00:00.000Z',
      changesAt: '2029-06-01T00:00:00.000Z',
    });
  });

  // Found by a property test: the row said "consent withdrawn" for ever, while asking again after
  // the five-year window said the former customer had left the audience.
  it('looks again when a former customer who withdrew a consent leaves the purpose\'s audience', () => {
    const profiling = 'customer-profiling-consent-based';
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: profiling, occurredAt: '2024-05-02T00:00:00Z' }),
      consentWithdrawn({ purpose: profiling, occurredAt: '2024-05-03T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2024-06-01T00:00:00Z' }),
    ]);
    expect(rowFor(profiling, view)).toMatchObject({ allowed: false, reason: 'consent-withdrawn', changesAt: '2029-06-01T00:00:00.000Z' });
    expect(rowFor(profiling, reevaluated(view, '2029-06-02T00:00:00Z').view)).toMatchObject({ allowed: false, reason: 'retention-window-ended', changesAt: null });
  });

  it('keeps billing for a former customer recorded again as a prospect until the window of the contract closes', () => {
    const view = viewAfter([
      relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2025-01-01T00:00:00Z' }),
      relationshipStarted({ relationship: 'prospect', occurredAt: '2026-06-01T00:00:00Z' }),
    ]);
    expect(rowFor('billing-accounting', view)).toMatchObject({ allowed: true, reason: 'contract', changesAt: '2032-01-01T00:00:00.000Z' });
  });

  it('does not bring a Pickx consent given under an ended contract back with a new contract', () => {
    const view = viewAfter([
      relationshipStarted({ occurredAt: '2018-01-01T00:00:00Z' }),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'], occurredAt: '2018-02-01T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2019-01-01T00:00:00Z' }),
      relationshipStarted({ occurredAt: '2026-01-01T00:00:00Z' }),
    ]);
    expect(rowFor(PICKX, view)).toMatchObject({ allowed: false, reason: 'consent-expired', consentedChannels: [] });
  });

  it('denies direct marketing once the former-customer window has closed and time has caught up', () => {
    const ended = viewAfter([relationshipStarted(), relationshipEnded({ occurredAt: '2024-06-01T00:00:00Z' })]);
    const { view } = reevaluated(ended, '2029-06-01T00:00:30Z');
    expect(rowFor('direct-marketing-customers-phone-email', view)).toMatchObject({ allowed: false, reason: 'retention-window-ended', validUntil: null });
  });

  it('closes the window a purpose that also reaches users declares for former customers, as a change in time', () => {
    const identification = 'legal-retention-network-service-identification-data';
    const ended = viewAfter([relationshipStarted(), relationshipEnded({ occurredAt: '2024-06-01T00:00:00Z' })]);
    expect(rowFor(identification, ended)).toMatchObject({ allowed: true, reason: 'legal-obligation', changesAt: '2025-06-01T00:00:00.000Z' });
    const { view, changes } = reevaluated(ended, '2025-06-01T00:00:30Z');
    expect(rowFor(identification, view)).toMatchObject({ allowed: false, reason: 'retention-window-ended', changesAt: null });
    expect(changes.subjects[0].decisions.map((row) => row.purpose)).toContain(identification);
  });

  it('denies everything but legal obligations and the erasure exceptions (billing, legal claims) for an erased subject', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'] }), subjectErased()]);
    const allowed = decisionRowsOf(view, catalogue).filter((row) => row.allowed);
    expect(allowed.every((row) => row.legalBasis === 'legal-obligation' || catalogue.purposes.get(row.purpose)?.erasureException !== undefined)).toBe(true);
    expect(rowFor('billing-accounting', view)).toMatchObject({ allowed: true, reason: 'contract' });
    expect(rowFor(PICKX, view)).toMatchObject({ allowed: false, reason: 'subject-erased' });
  });
});

describe('comparing decision rows', () => {
  const row = rowFor(PICKX, viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'] })]));

  it('finds a row the same as an equal copy of itself', () => expect(isSameDecisionRow(row, structuredClone(row))).toBe(true));

  it.each(Object.keys(row))('tells rows apart that differ only in %s, so no change goes unwritten', (field) => {
    const value = (row as unknown as Record<string, unknown>)[field];
    const changed = Array.isArray(value) ? [...value, value.length > 0 ? value[0] : 'x'] : typeof value === 'boolean' ? !value : `${String(value)}-changed`;
    expect(isSameDecisionRow(row, { ...row, [field]: changed })).toBe(false);
  });

  // The operator dates a material change of a consent purpose's notice in the catalogue: the rows,
  // the audience and the topics must change at that instant without anyone sending a command.
  it('ends a consent given before its notice changed when the change takes effect, by the time sweep', () => {
    const changedAt = '2026-12-01T00:00:00.000Z';
    const changed = loadCatalogue({
      ...catalogue.definition,
      purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === PICKX ? { ...purpose, noticeChangedAt: changedAt } : purpose)),
    });
    const given = [relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'], occurredAt: '2025-03-01T00:00:00Z' })];
    const { changes } = project(given, changed);
    expect(changes.subjects[0]).toMatchObject({ nextChangeAt: changedAt });
    expect(decisionRowsOf(changes.subjects[0].view, changed).find((row) => row.purpose === PICKX)).toMatchObject({ allowed: true, changesAt: changedAt });

    const { view } = reevaluated(changes.subjects[0].view, '2026-12-01T00:00:30Z', changed);
    expect(decisionRowsOf(view, changed).find((row) => row.purpose === PICKX)).toMatchObject({ allowed: false, reason: 'notice-changed', consentedChannels: [] });
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: false });
  });
});
