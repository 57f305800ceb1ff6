import type { Decision } from '@consent-ledger/domain';
import { PersonalDataVault } from '@consent-ledger/personal-data';
import { LedgerStorage } from '../../apps/consent-api/src/ledger/ledger-storage';
import { newSubjectId, startTestApi, TEST_KEYS, type TestApi } from '../../apps/consent-api/src/testing/test-api';
import { auditInProcess } from './support/audit-run';
import { catalogue } from './support/ledger-writer';

const TV_ADS = 'targeted-tv-advertising-pickx';
const PHONE_MARKETING = 'direct-marketing-customers-phone-email';
const PURPOSES = [TV_ADS, PHONE_MARKETING];
const CHANNEL: Record<string, string> = { [TV_ADS]: 'tv-screen', [PHONE_MARKETING]: 'phone' };

interface Observation {
  /** Taken once the decision endpoint had answered: every command before it was recorded earlier, every later one after. */
  readonly instant: string;
  readonly purpose: string;
  readonly answer: Decision;
}

/**
 * What the decision endpoint said at several real moments while choices were recorded, one of them
 * keyed in late, and what an auditor asks afterwards about each of those moments.
 */
describe('an as-of answer for a moment in the past', () => {
  let api: TestApi;
  const subjectId = newSubjectId('as-of');
  const observations: Observation[] = [];
  const minutesBeforeStart = (minutes: number) => new Date(started - minutes * 60_000).toISOString();
  let started: number;

  const observe = async () => {
    for (const purpose of PURPOSES) {
      const answer = await api.call<Decision>('GET', `/v1/subjects/${subjectId}/decision?purpose=${purpose}&channel=${CHANNEL[purpose]}`, { key: TEST_KEYS.reader });
      expect(answer.status).toBe(200);
      observations.push({ instant: new Date().toISOString(), purpose, answer: answer.body });
    }
  };
  const record = async (json: Record<string, unknown>) => expect((await api.command({ subjectId, ...json })).status).toBe(201);

  beforeAll(async () => {
    api = await startTestApi();
    started = Date.now();
    await observe();
    // Pickx ads exist only for customers: the contract signed in a shop half an hour earlier comes first.
    await record({ type: 'StartRelationship', relationship: 'customer', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 'shop-2' }, occurredAt: minutesBeforeStart(30) } });
    await observe();
    await record({ type: 'GiveConsent', purpose: TV_ADS, capture: { touchpoint: 'tv-menu', actor: { kind: 'subject' }, noticeVersion: '2024-02-27', occurredAt: minutesBeforeStart(10) } });
    await observe();
    // Signed in a shop a few minutes before the first observation, keyed in only now.
    await record({ type: 'WithdrawConsent', purpose: TV_ADS, capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 'shop-2' }, occurredAt: minutesBeforeStart(5) } });
    await observe();
    await record({ type: 'RestrictChannel', channel: 'phone', capture: { touchpoint: 'myproximus-app', actor: { kind: 'subject' } } });
    await observe();
    await record({ type: 'Object', purpose: 'direct-marketing', capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-1' } } });
    await observe();
  });
  afterAll(() => api.close());

  const same = (answer: Decision) => ({ allowed: answer.allowed, reason: answer.reason, legalBasis: answer.legalBasis, basedOn: answer.basedOn.map((ref) => ref.eventId), validUntil: answer.validUntil });

  it('saw the answers change while the choices were recorded', () =>
    expect(new Set(observations.map((observation) => `${observation.purpose} ${observation.answer.reason}`))).toEqual(
      new Set([
        `${TV_ADS} no-relationship`,
        `${TV_ADS} no-consent`,
        `${TV_ADS} consent-active`,
        `${TV_ADS} consent-withdrawn`,
        `${TV_ADS} objected`,
        `${PHONE_MARKETING} no-relationship`,
        `${PHONE_MARKETING} legitimate-interest`,
        `${PHONE_MARKETING} channel-restricted`,
        `${PHONE_MARKETING} objected`,
      ]),
    ));

  it('gives, through the CLI, the answer the decision endpoint gave at each moment, as the system knew it then', async () => {
    const storage = api.app.get(LedgerStorage);
    for (const { instant, purpose, answer } of observations) {
      const run = await auditInProcess(['as-of', subjectId, instant, '--known-at', instant, '--purpose', purpose, '--channel', CHANNEL[purpose], '--json'], {
        store: storage.eventStore,
        vault: api.app.get(LedgerStorage).vault as PersonalDataVault,
        catalogue,
      });
      expect(run.code).toBe(0);
      const [purposeAnswer] = JSON.parse(run.stdout).purposes;
      expect({ instant, purpose, ...same({ ...purposeAnswer, basedOn: purposeAnswer.decidedBy }) }).toEqual({ instant, purpose, ...same(answer) });
    }
  });

  it('gives, through the decision endpoint with at and knownAt, the answer it gave at each moment', async () => {
    for (const { instant, purpose, answer } of observations) {
      const past = await api.call<Decision>('GET', `/v1/subjects/${subjectId}/decision?purpose=${purpose}&channel=${CHANNEL[purpose]}&at=${instant}&knownAt=${instant}`, { key: TEST_KEYS.reader });
      expect({ instant, purpose, ...same(past.body) }).toEqual({ instant, purpose, ...same(answer) });
    }
  });

  it('says, with everything known today, that the consent was already withdrawn when the endpoint still allowed it', async () => {
    const stillAllowed = observations.find((observation) => observation.purpose === TV_ADS && observation.answer.reason === 'consent-active')!;
    const run = await auditInProcess(['as-of', subjectId, stillAllowed.instant, '--purpose', TV_ADS, '--json'], { store: api.store, catalogue });
    expect(JSON.parse(run.stdout).purposes[0]).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });
  });

  it('marks the late choices on the auditor timeline, with what the system knew when the person made them', async () => {
    const timeline = await api.call('GET', `/v1/subjects/${subjectId}/timeline`, { key: TEST_KEYS.auditor });
    const [, consent, withdrawal] = timeline.body.steps;
    expect(consent).toMatchObject({ decision: 'consent-given', late: true, outOfOrder: false, touchpoint: 'tv-menu' });
    expect(withdrawal).toMatchObject({ decision: 'consent-withdrawn', late: true, outOfOrder: false, touchpoint: 'shop' });
    // Everything reached the ledger after the withdrawal was signed: the system then knew of nothing, not even the customer.
    expect(withdrawal.purposes[0].whenExpressed).toMatchObject({ asChosen: { allowed: false, reason: 'consent-withdrawn' }, asKnown: { allowed: false, reason: 'no-relationship' } });
  });
});
