import { describeWithPostgres } from '../../../../test/support/services';
import { commandJson, CONSENT_PURPOSE, newSubjectId, type StoreKind, startTestApi, type TestApi } from '../testing/test-api';

const PROSPECT_MARKETING = 'direct-marketing-prospects-phone-email';
const CUSTOMER_MARKETING = 'direct-marketing-customers-phone-email';
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

function showingPreferences(kind: StoreKind) {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(() => api.close());

  it('shows the subject preferences: relationship, a decision for every purpose, restrictions and opt-outs', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId, { segment: 'business' }));
    await api.command(commandJson.giveConsent(subjectId));
    await api.command(commandJson.restrictChannel(subjectId, { channel: 'phone' }));
    await api.command(commandJson.optOutSource(subjectId, { source: 'device-data' }));

    const purposes = await api.call('GET', '/v1/purposes');
    const preferences = await api.call('GET', `/v1/subjects/${subjectId}/preferences`);
    expect(preferences.status).toBe(200);
    expect(preferences.body).toMatchObject({
      brand: 'proximus',
      erased: false,
      relationships: [{ brand: 'proximus', relationship: 'customer', segment: 'business', status: 'active' }],
      restrictedChannels: [{ channel: 'phone' }],
      optedOutSources: [{ source: 'device-data' }],
    });
    expect(preferences.body.purposes.map((entry: { purpose: string }) => entry.purpose)).toEqual(purposes.body.purposes.map((purpose: { id: string }) => purpose.id));
    expect(preferences.body.purposes.find((entry: { purpose: string }) => entry.purpose === CONSENT_PURPOSE)).toMatchObject({ allowed: true, reason: 'consent-active' });
  });

  it('names the channels each purpose may use: those consented to, less those the person restricted', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId));
    await api.command(commandJson.giveConsent(subjectId, { purpose: PROSPECT_MARKETING, channels: ['email', 'sms'] }));
    await api.command(commandJson.restrictChannel(subjectId, { channel: 'sms' }));
    await api.command(commandJson.restrictChannel(subjectId, { channel: 'phone' }));

    const preferences = await api.call('GET', `/v1/subjects/${subjectId}/preferences`);
    const entry = (purpose: string) => preferences.body.purposes.find((each: { purpose: string }) => each.purpose === purpose);
    expect(entry(PROSPECT_MARKETING)).toMatchObject({ allowed: true, reason: 'consent-active', channels: ['email'] });
    expect(entry(CUSTOMER_MARKETING)).toMatchObject({ allowed: true, reason: 'legitimate-interest', channels: ['email', 'post'] });

    await api.command(commandJson.restrictChannel(subjectId, { channel: 'email' }));
    const decision = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${PROSPECT_MARKETING}`);
    expect(decision.body).toMatchObject({ allowed: false, reason: 'channel-restricted', channels: [] });
  });

  // Found in review: objections said since when, restrictions and opt-outs did not, so a
  // preference centre could not tell the person when they stopped SMS.
  it('says since when each restriction and opt-out stands: when the person made it', async () => {
    const subjectId = newSubjectId();
    const restrictedAt = hoursAgo(3);
    const optedOutAt = hoursAgo(2);
    await api.command(commandJson.restrictChannel(subjectId, { channel: 'sms', capture: { occurredAt: restrictedAt } }));
    await api.command(commandJson.optOutSource(subjectId, { source: 'device-data', capture: { occurredAt: optedOutAt } }));
    const preferences = await api.call('GET', `/v1/subjects/${subjectId}/preferences`);
    expect(preferences.body.restrictedChannels).toEqual([{ channel: 'sms', since: restrictedAt }]);
    expect(preferences.body.optedOutSources).toEqual([{ source: 'device-data', since: optedOutAt }]);
  });

  it('shows the preferences as they stood at an earlier instant', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.restrictChannel(subjectId, { capture: { occurredAt: hoursAgo(1) } }));
    const earlier = await api.call('GET', `/v1/subjects/${subjectId}/preferences?at=${hoursAgo(2)}`);
    expect(earlier.body.restrictedChannels).toEqual([]);
  });
}

describe('showing preferences on SQLite', () => showingPreferences('sqlite'));
describeWithPostgres('showing preferences on PostgreSQL', () => showingPreferences('postgres'));
