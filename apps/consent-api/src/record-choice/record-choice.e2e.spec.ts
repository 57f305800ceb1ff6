import { iban, inGroupsOfFour, nationalRegisterNumber, withDotsAndDash } from '../../../../libs/ledger-commands/src/testing/identity-numbers';
import { describeWithPostgres } from '../../../../test/support/services';
import { commandJson, everyCommandType, type Json, MOTIVATED_PURPOSE, newSubjectId, type StoreKind, startTestApi, type TestApi } from '../testing/test-api';

function recordingChoices(kind: StoreKind) {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(() => api.close());

  const historyOf = async (subjectId: string) => (await api.call('GET', `/v1/subjects/${subjectId}/history`)).body.events as Json[];

  describe('every command type', () => {
    const subjectId = newSubjectId();
    it.each(everyCommandType(subjectId).map((json) => [json.type as string, json]))('%s answers 201 with the events it recorded', async (_, json) => {
      const response = await api.command(json);
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        subjectId,
        events: [{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: expect.any(String), revision: expect.any(Number) }],
        position: expect.stringMatching(/^\d+$/),
      });
    });

    it('keeps them all, in order, in the subject history', async () => {
      expect((await historyOf(subjectId)).map((event) => event.type)).toEqual([
        'RelationshipStarted',
        'ConsentGiven',
        'ConsentWithdrawn',
        'ObjectionRaised',
        'ObjectionWithdrawn',
        'ObjectionRaised',
        'ObjectionReviewed',
        'ChannelRestricted',
        'ChannelRestrictionLifted',
        'SourceOptedOut',
        'SourceOptedIn',
        'RelationshipEnded',
        'SubjectErased',
      ]);
    });
  });

  // Found in review: a validUntil past the catalogue's validity was cut back without a word, and
  // the channel showed the person a date the ledger does not hold.
  it("tells when a consent lapses by itself: the catalogue's validity, or the earlier end the person chose", async () => {
    const occurredAt = '2026-01-15T10:00:00.000Z';
    const prospectConsenting = async (validUntil: string) => {
      const subjectId = newSubjectId();
      const capture = { touchpoint: 'myproximus-web', actor: { kind: 'subject' }, occurredAt };
      expect((await api.command({ type: 'StartRelationship', subjectId, relationship: 'prospect', capture })).status).toBe(201);
      const answer = await api.command({ type: 'GiveConsent', subjectId, purpose: 'newsletter-prospects', validUntil, capture: { ...capture, noticeVersion: '2024-02-27' } });
      expect(answer.status).toBe(201);
      return answer.body.events;
    };
    expect(await prospectConsenting('2040-01-01T00:00:00.000Z')).toEqual([expect.objectContaining({ type: 'ConsentGiven', expiresAt: '2029-01-15T10:00:00.000Z' })]);
    expect(await prospectConsenting('2027-06-30T00:00:00.000Z')).toEqual([expect.objectContaining({ type: 'ConsentGiven', expiresAt: '2027-06-30T00:00:00.000Z' })]);
  });

  const labelOf = (json: Json) => (json.purpose ? `${json.type} (${json.purpose})` : (json.type as string));
  it.each(everyCommandType('story').map((json, index) => [labelOf(json), index]))(
    '%s already standing from the same instant answers 200 with no events and records nothing, and repeated later is recorded',
    async (_, index) => {
      const subjectId = newSubjectId();
      // Each step stamped by the channel, a second apart, an hour ago: a repeat is then a duplicate delivery.
      const startedAt = Date.now() - 3_600_000;
      const story = everyCommandType(subjectId).map((json, step) => ({
        ...json,
        capture: { ...(json.capture as Json), occurredAt: new Date(startedAt + step * 1000).toISOString() },
      }));
      for (const json of story.slice(0, index + 1)) expect((await api.command(json)).status).toBe(201);
      const before = await api.store.headPosition();

      const repeat = await api.command(story[index]);
      expect(repeat.status).toBe(200);
      expect(repeat.body).toEqual({ subjectId, events: [], position: expect.any(String) });
      expect(await api.store.headPosition()).toBe(before);

      // Made later, the same choice is the person's latest word (ADR 0001), and the same review may
      // answer an objection dated between that has not arrived yet. An erasure is final.
      const later = await api.command({ ...story[index], capture: { ...(story[index].capture as Json), occurredAt: new Date().toISOString() } });
      expect(later.status).toBe((story[index] as Json).type === 'EraseSubject' ? 200 : 201);
    },
  );

  // Found across processes: given t1, withdrawn t2, withdrawn again t4 (answered 200), then the
  // consent of t3 arriving last won, and the person's last word had been no.
  it('ends on the person\'s latest choice when their commands arrive out of order', async () => {
    const subjectId = newSubjectId();
    const hourAgo = Date.now() - 3_600_000;
    const at = (minute: number) => ({ capture: { occurredAt: new Date(hourAgo + minute * 60_000).toISOString() } });
    const purpose = 'targeted-tv-advertising-pickx';
    expect((await api.command(commandJson.startRelationship(subjectId, at(0)))).status).toBe(201);
    const responses = [];
    for (const json of [
      commandJson.giveConsent(subjectId, { purpose, ...at(1) }),
      commandJson.withdrawConsent(subjectId, { purpose, ...at(2) }),
      commandJson.withdrawConsent(subjectId, { purpose, ...at(4) }),
      commandJson.giveConsent(subjectId, { purpose, ...at(3) }),
    ]) {
      responses.push(await api.command(json));
    }
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201]);
    const decision = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${purpose}&channel=tv-screen`);
    expect(decision.body).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });

    // The caller of the late consent learns that it was recorded as evidence but does not stand.
    const [lateConsent] = responses[3].body.events;
    const [laterWithdrawal] = responses[2].body.events;
    expect(lateConsent.supersededBy).toEqual([{ eventId: laterWithdrawal.id, revision: laterWithdrawal.revision }]);
    expect(responses.slice(0, 3).map((response) => response.body.events[0].supersededBy)).toEqual([undefined, undefined, undefined]);
  });

  it('records the capture evidence and seals what could identify the person', async () => {
    const subjectId = newSubjectId('prospect');
    const response = await api.command(
      commandJson.giveConsent(subjectId, {
        purpose: 'prospect-contact-collection-events',
        channels: ['email'],
        contact: { name: 'An Janssens', email: 'an.janssens@example.be', phone: '+32 475 12 34 56' },
        capture: {
          touchpoint: 'event',
          actor: { kind: 'agent', id: 'hostess-12' },
          occurredAt: '2024-04-30T16:45:00+02:00',
          noticeVersion: '2024-02-27',
          locale: 'nl-BE',
          evidenceRef: 'paper-form-2024-0412',
        },
      }),
    );
    expect(response.status).toBe(201);

    const [event] = await historyOf(subjectId);
    expect(event.data).toMatchObject({
      purpose: 'prospect-contact-collection-events',
      channels: ['email'],
      capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'hostess-12' }, occurredAt: '2024-04-30T14:45:00.000Z', locale: 'nl-BE' },
      personalData: expect.stringMatching(/^sealed:v1:/),
    });
    // The whole phone number, not a fragment: three digits also turn up in timestamps and ciphertext.
    expect(JSON.stringify(event)).not.toMatch(/Janssens|example\.be|475 12 34 56|475123456|paper-form/);
  });

  it('accepts a brand other than the default', async () => {
    const subjectId = newSubjectId();
    const response = await api.command(commandJson.startRelationship(subjectId, { brand: 'scarlet' }));
    expect(response.status).toBe(201);
    expect((await historyOf(subjectId))[0].data).toMatchObject({ brand: 'scarlet' });
  });

  describe('a broken rule', () => {
    it.each([
      ['objecting to a legal obligation', (s: string) => commandJson.object(s, { purpose: 'legal-retention-traffic-location-data' }), 'legal-obligation-cannot-be-objected-to'],
      ['reviewing an objection that does not exist', (s: string) => commandJson.reviewObjection(s), 'no-objection-pending-review'],
      ['ending a relationship that never started', (s: string) => commandJson.endRelationship(s), 'no-relationship-to-end'],
      ['consenting to a contract purpose', (s: string) => commandJson.giveConsent(s, { purpose: 'service-provision' }), 'consent-not-applicable'],
      ['consenting without naming the notice', (s: string) => commandJson.giveConsent(s, { capture: { noticeVersion: undefined } }), 'notice-version-required'],
      ['a motivated objection without reasons', (s: string) => commandJson.object(s, { purpose: 'security-cctv' }), 'justification-required'],
      // Found in review: recorded and listed in preferences, while invoices by SMS went on being allowed.
      ['restricting invoices by SMS, which the contract needs', (s: string) => commandJson.restrictChannel(s, { channel: 'sms', purpose: 'billing-accounting' }), 'restriction-not-possible'],
    ])('%s answers 422 with the rule name and records nothing', async (_, build, rule) => {
      const before = await api.store.headPosition();
      const response = await api.command(build(newSubjectId()));
      expect(response.status).toBe(422);
      expect(response.body).toEqual({ error: rule, message: expect.any(String) });
      expect(await api.store.headPosition()).toBe(before);
    });
  });

  // Found in review: "2099-12-31", "v1" or a channel's typo were recorded as the notice a person was shown.
  it('answers 422 to a consent under a notice the operator never published, naming the field, and leaves the subject as it was', async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);
    expect((await api.command(commandJson.giveConsent(subjectId))).status).toBe(201);
    const at = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    const preferencesOf = async () => (await api.call('GET', `/v1/subjects/${subjectId}/preferences?at=${at}`)).body;
    const [history, preferences, head] = [await historyOf(subjectId), await preferencesOf(), await api.store.headPosition()];

    for (const noticeVersion of ['2099-12-31', 'v1']) {
      const response = await api.command(commandJson.giveConsent(subjectId, { purpose: 'customer-profiling-consent-based', capture: { noticeVersion } }));
      expect([response.status, response.body]).toEqual([422, { error: 'notice-version-unknown', message: expect.stringContaining('capture.noticeVersion') }]);
    }
    expect(await api.store.headPosition()).toBe(head);
    expect(await historyOf(subjectId)).toEqual(history);
    expect(await preferencesOf()).toEqual(preferences);
  });

  // Found in review: a channel system could not tell from the answer which field a consent lacked,
  // nor what an unsubscribe link sends instead of a withdrawal for a purpose on legitimate interest.
  it('answers 422 to a consent without a notice naming the field capture.noticeVersion', async () => {
    const response = await api.command(commandJson.giveConsent(newSubjectId(), { capture: { noticeVersion: undefined } }));
    expect([response.status, response.body]).toEqual([422, { error: 'notice-version-required', message: expect.stringContaining('capture.noticeVersion') }]);
  });

  it('answers 422 to withdrawing consent from a purpose on legitimate interest, naming Object as the command that stops it', async () => {
    const response = await api.command(commandJson.withdrawConsent(newSubjectId(), { purpose: 'newsletter-customers' }));
    expect([response.status, response.body]).toEqual([422, { error: 'consent-not-applicable', message: expect.stringContaining('Object') }]);
  });

  describe('reviewing an objection', () => {
    const dpo = (occurredAt: Date) => ({ capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-7' }, occurredAt: occurredAt.toISOString() } });
    const review = (subjectId: string, outcome: string, occurredAt: Date) => commandJson.reviewObjection(subjectId, { outcome, ...dpo(occurredAt) });
    const objectAt = (subjectId: string, occurredAt: Date) =>
      commandJson.object(subjectId, { purpose: MOTIVATED_PURPOSE, justification: 'I do not want my app usage analysed.', capture: { occurredAt: occurredAt.toISOString() } });
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

    it('answers the same review again 200, and another outcome 422 whenever it is dated, recording nothing', async () => {
      const subjectId = newSubjectId();
      expect((await api.command(commandJson.startRelationship(subjectId, { capture: { occurredAt: minutesAgo(60).toISOString() } }))).status).toBe(201);
      expect((await api.command(objectAt(subjectId, minutesAgo(50)))).status).toBe(201);
      const reviewedAt = minutesAgo(30);
      expect((await api.command(review(subjectId, 'upheld', reviewedAt))).status).toBe(201);
      const head = await api.store.headPosition();

      const same = await api.command(review(subjectId, 'upheld', reviewedAt));
      expect([same.status, same.body.events]).toEqual([200, []]);
      for (const occurredAt of [minutesAgo(10), minutesAgo(40)]) {
        const other = await api.command(review(subjectId, 'rejected', occurredAt));
        expect([other.status, other.body]).toEqual([422, { error: 'objection-already-reviewed', message: expect.stringContaining('upheld') }]);
      }
      expect(await api.store.headPosition()).toBe(head);
      const decision = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${MOTIVATED_PURPOSE}`);
      expect(decision.body).toMatchObject({ allowed: false, reason: 'objected' });
    });

    it('takes a review with another outcome once the person objects again', async () => {
      const subjectId = newSubjectId();
      expect((await api.command(commandJson.startRelationship(subjectId, { capture: { occurredAt: minutesAgo(60).toISOString() } }))).status).toBe(201);
      expect((await api.command(objectAt(subjectId, minutesAgo(50)))).status).toBe(201);
      expect((await api.command(review(subjectId, 'rejected', minutesAgo(40)))).status).toBe(201);
      expect((await api.command(objectAt(subjectId, minutesAgo(20)))).status).toBe(201);
      const pending = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${MOTIVATED_PURPOSE}`);
      expect(pending.body).toMatchObject({ allowed: false, reason: 'objection-pending-review' });

      // Dated before the second objection, it would be a second answer to the first.
      const tooEarly = await api.command(review(subjectId, 'upheld', minutesAgo(30)));
      expect([tooEarly.status, tooEarly.body.error]).toEqual([422, 'objection-already-reviewed']);
      expect((await api.command(review(subjectId, 'upheld', minutesAgo(10)))).status).toBe(201);
      const decision = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${MOTIVATED_PURPOSE}`);
      expect(decision.body).toMatchObject({ allowed: false, reason: 'objected' });
    });

    // Until the fourteenth session it was refused whenever it was sent, and the days it answered
    // stayed "pending review".
    it('takes a review that reaches the ledger after the person withdrew the objection it answered', async () => {
      const subjectId = newSubjectId();
      expect((await api.command(commandJson.startRelationship(subjectId, { capture: { occurredAt: minutesAgo(60).toISOString() } }))).status).toBe(201);
      expect((await api.command(objectAt(subjectId, minutesAgo(50)))).status).toBe(201);
      const withdrawn = await api.command(commandJson.withdrawObjection(subjectId, { purpose: MOTIVATED_PURPOSE, capture: { occurredAt: minutesAgo(20).toISOString() } }));
      expect(withdrawn.status).toBe(201);
      expect((await api.command(review(subjectId, 'upheld', minutesAgo(40)))).status).toBe(201);
      const between = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${MOTIVATED_PURPOSE}&at=${minutesAgo(30).toISOString()}`);
      expect(between.body).toMatchObject({ allowed: false, reason: 'objected' });
    });
  });

  describe('idempotent retries', () => {
    it('a retry with the same key and body gets the first answer and records nothing new', async () => {
      const json = commandJson.giveConsent(newSubjectId());
      const first = await api.command(json, { idempotencyKey: 'retry-1' });
      const head = await api.store.headPosition();
      const retry = await api.command(json, { idempotencyKey: 'retry-1' });

      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('idempotency-replayed')).toBe('true');
      expect(await api.store.headPosition()).toBe(head);
    });

    it('the same key with another body is a 409 and records nothing', async () => {
      const subjectId = newSubjectId();
      await api.command(commandJson.restrictChannel(subjectId, { channel: 'sms' }), { idempotencyKey: 'retry-2' });
      const head = await api.store.headPosition();

      const reused = await api.command(commandJson.restrictChannel(subjectId, { channel: 'email' }), { idempotencyKey: 'retry-2' });
      expect(reused.status).toBe(409);
      expect(reused.body).toEqual({ error: 'idempotency-key-reused', message: expect.any(String) });
      expect(await api.store.headPosition()).toBe(head);
    });

    it('a refused command keeps its refusal for retries of its key', async () => {
      const subjectId = newSubjectId();
      const refused = await api.command(commandJson.endRelationship(subjectId), { idempotencyKey: 'retry-3' });
      await api.command(commandJson.startRelationship(subjectId));

      const retry = await api.command(commandJson.endRelationship(subjectId), { idempotencyKey: 'retry-3' });
      expect(retry.status).toBe(422);
      expect(retry.body).toEqual(refused.body);
    });

    it('copies of one request sent at once record it once', async () => {
      const json = commandJson.optOutSource(newSubjectId());
      const head = await api.store.headPosition();
      const answers = await Promise.all(Array.from({ length: 8 }, () => api.command(json, { idempotencyKey: 'retry-4' })));

      expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(201));
      expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
      expect(await api.store.headPosition()).toBe(head + 1n);
    });

    it('refuses an idempotency key that is not printable ASCII', async () => {
      const response = await api.command(commandJson.restrictChannel(newSubjectId()), { idempotencyKey: 'key with spaces' });
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
    });

    // The command topic takes the same keys (until 2026-11-29 it stopped at 200 characters).
    it('takes an idempotency key of 255 characters and refuses a longer one, recording nothing', async () => {
      const longest = `${newSubjectId()}-`.padEnd(255, 'x');
      expect((await api.command(commandJson.restrictChannel(newSubjectId()), { idempotencyKey: longest })).status).toBe(201);
      const head = await api.store.headPosition();
      const response = await api.command(commandJson.restrictChannel(newSubjectId()), { idempotencyKey: `${longest}x` });
      expect([response.status, response.body.details]).toEqual([400, [{ field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters without spaces' }]]);
      expect(await api.store.headPosition()).toBe(head);
    });

    // The key is kept in clear with the events (and travels as causation-id), erasure or not.
    it('refuses an idempotency key built from a caller\'s phone number or e-mail address, and records nothing', async () => {
      const head = await api.store.headPosition();
      for (const idempotencyKey of ['call-0475123456-1', 'jan.peeters@example.be']) {
        const response = await api.command(commandJson.restrictChannel(newSubjectId()), { idempotencyKey });
        expect(response.status).toBe(400);
        expect(response.body.details).toEqual([{ field: 'Idempotency-Key', message: expect.stringContaining('e-mail address or phone number') }]);
      }
      expect(await api.store.headPosition()).toBe(head);
    });

    // Found in review: `85.07.30-033.28` as a key was recorded, and published and logged with the events.
    it('refuses an idempotency key holding a national register number as printed or an IBAN, and records nothing', async () => {
      const head = await api.store.headPosition();
      const keys = [withDotsAndDash(nationalRegisterNumber({ born: '1985-07-30', serial: 33 })), iban('BE', '539007547034'), `sepa-${inGroupsOfFour(iban('BE', '539007547034')).replace(/ /g, '-')}`];
      for (const idempotencyKey of keys) {
        const response = await api.command(commandJson.restrictChannel(newSubjectId()), { idempotencyKey });
        expect([response.status, response.body.details]).toEqual([400, [{ field: 'Idempotency-Key', message: 'must not contain a national register number or bank account number: it is kept in clear in the log' }]]);
        expect(JSON.stringify(response.body)).not.toContain(idempotencyKey);
      }
      expect(await api.store.headPosition()).toBe(head);
    });

    it('takes eleven bare digits as an idempotency key, as order numbers are written, though they pass a national register number\'s check', async () => {
      const orderNumber = nationalRegisterNumber({ born: '1985-07-30', serial: 33 });
      expect((await api.command(commandJson.restrictChannel(newSubjectId()), { idempotencyKey: orderNumber })).status).toBe(201);
    });
  });
}

describe('recording choices over HTTP on SQLite', () => recordingChoices('sqlite'));
describeWithPostgres('recording choices over HTTP on PostgreSQL', () => recordingChoices('postgres'));
