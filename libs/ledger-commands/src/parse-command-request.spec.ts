import { randomUUID } from 'node:crypto';
import { type Instant, loadCatalogue } from '@consent-ledger/domain';
import { InMemoryVault, isSealed } from '@consent-ledger/personal-data';
import proximus from '../../../catalogues/proximus.json';
import { checkCommandRequest, parseCommandRequest } from './parse-command-request';
import { contactDetailsProblem, personalDataInTextProblem } from './request-fields';
import { captureJson, commandJson, everyCommandType, TEST_NOTICE } from './testing/command-json';

const catalogue = loadCatalogue(proximus);
const NOW = '2024-05-01T09:00:00.000Z' as Instant;
const check = (json: unknown) => checkCommandRequest(json, { catalogue, now: NOW });
const problemsOf = (json: unknown) => check(json).errors;

describe('checking a command request', () => {
  it.each(everyCommandType('subject-1').map((json) => [json.type, json]))('accepts a well-formed %s', (_, json) => {
    expect(problemsOf(json)).toBeUndefined();
  });

  it('names the nested field that is wrong', () => {
    expect(problemsOf(commandJson.restrictChannel('subject-1', { capture: { touchpoint: 'fax-machine' } }))).toEqual([
      { field: 'capture.touchpoint', message: expect.stringMatching(/^must be one of myproximus-web, /) },
    ]);
  });

  it('points at the bad item of a list', () => {
    expect(problemsOf(commandJson.giveConsent('subject-1', { channels: ['tv-screen', 'pigeon'] }))).toEqual([
      { field: 'channels[1]', message: expect.stringContaining('(got "pigeon")') },
    ]);
  });

  // The form api.md tells channels to give a numeric customer number that looks like a phone number.
  it('accepts a prefixed customer number as subject id', () => {
    expect(problemsOf(commandJson.startRelationship('cust-0123456789'))).toBeUndefined();
  });

  // Found in review: the landline screen for text in clear, applied to ids too, refused subjects
  // recorded before it, so they could no longer be asked about, exported or erased.
  it('accepts as subject id an account number with a region code, as before landlines were screened', () => {
    for (const subjectId of ['cust-02-1234567', 'acct-04-2024001', 'c-2024-03-1234567', 'crm-09.123.45.67']) {
      expect(problemsOf(commandJson.startRelationship(subjectId))).toBeUndefined();
    }
  });

  // These stay in clear in the log for years, erasure included: only sealed fields may hold contact details.
  it('refuses a notice version or an erasure basis that holds an e-mail address or a phone number', () => {
    expect(problemsOf(commandJson.giveConsent('subject-1', { capture: { noticeVersion: 'jan.peeters@example.be' } }))).toEqual([
      { field: 'capture.noticeVersion', message: expect.stringContaining('must not contain an e-mail address or phone number') },
    ]);
    expect(problemsOf(commandJson.eraseSubject('subject-1', { basis: 'letter of 3 May, caller +32 475 12 34 56' }))).toEqual([
      { field: 'basis', message: expect.stringContaining('must not contain an e-mail address or phone number') },
    ]);
    expect(problemsOf(commandJson.eraseSubject('subject-1', { basis: 'court order 2024/0475-B' }))).toBeUndefined();
  });

  it('refuses fields the contract does not have, at any depth', () => {
    expect(problemsOf({ ...commandJson.endRelationship('subject-1', { capture: { mood: 'happy' } }), colour: 'blue' })).toEqual([
      { field: 'colour', message: 'is not a known field' },
      { field: 'capture.mood', message: 'is not a known field' },
    ]);
  });

  it('refuses an unknown command type without looking further', () => {
    expect(problemsOf({ type: 'GiveEverything', subjectId: 'subject-1' })).toEqual([{ field: 'type', message: expect.stringMatching(/^must be one of GiveConsent/) }]);
  });

  it('refuses a purpose the catalogue does not have', () => {
    expect(problemsOf(commandJson.withdrawConsent('subject-1', { purpose: 'mind-reading' }))).toEqual([
      { field: 'purpose', message: 'is not a purpose of the catalogue (got "mind-reading")' },
    ]);
  });

  // Found in review: a locale set to an e-mail address answered `(got "jan.peeters@example.be")`,
  // and the Kafka intake sends that answer to a topic every channel system reads for 7 days.
  describe('naming a refused value without repeating personal data', () => {
    const personalData = ['jan.peeters@example.be', '0475123456', '+32 475 12 34 56', 'Jan Peeters', 'BE71096123456769', '85.07.30-033.28'];

    it('never repeats the text of a free-text field', () => {
      for (const value of [...personalData, 'fr_BE', '2024-13-01T09:00:00Z']) {
        const problems = problemsOf(commandJson.restrictChannel('subject-1', { capture: { locale: value, occurredAt: value } }));
        expect(problems).toEqual([
          { field: 'capture.occurredAt', message: 'must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T09:00:00Z' },
          { field: 'capture.locale', message: 'must be a BCP 47 language tag such as fr-BE' },
        ]);
      }
    });

    it('repeats a misspelt name of a closed list, which helps integrators, but not personal data put in its place', () => {
      for (const value of personalData) {
        const problems = problemsOf(commandJson.giveConsent('subject-1', { purpose: value, channels: [value], capture: { touchpoint: value } }));
        expect(problems).toHaveLength(2);
        expect(JSON.stringify(problems)).toContain('(got text not repeated here, as it may hold personal data)');
        expect(JSON.stringify(problems)).not.toContain(JSON.stringify(value).slice(1, -1));
      }
      expect(problemsOf(commandJson.giveConsent('subject-1', { channels: ['sms', 'pigeon'], capture: { touchpoint: 'fax-machine' } }))).toEqual([
        { field: 'channels[1]', message: expect.stringContaining('(got "pigeon")') },
        { field: 'capture.touchpoint', message: expect.stringContaining('(got "fax-machine")') },
      ]);
      expect(problemsOf(commandJson.withdrawConsent('subject-1', { purpose: '0475123456' }))).toEqual([
        { field: 'purpose', message: 'is not a purpose of the catalogue (got text not repeated here, as it may hold personal data)' },
      ]);
    });

    it('names a number by its kind, as a phone number may be sent as one', () => {
      expect(problemsOf(commandJson.restrictChannel('subject-1', { purpose: 32475123456, capture: { touchpoint: 32475123456 } }))).toEqual([
        { field: 'purpose', message: 'must be text (got a number)' },
        { field: 'capture.touchpoint', message: expect.stringMatching(/\(got a number\)$/) },
      ]);
    });

    it('names an unknown field by its name only when it is shaped like one', () => {
      expect(problemsOf({ ...commandJson.restrictChannel('subject-1'), chanel: 'sms' })).toEqual([{ field: 'chanel', message: 'is not a known field' }]);
      for (const key of personalData) {
        const problems = problemsOf({ ...commandJson.restrictChannel('subject-1'), capture: { ...captureJson(), [key]: 1 } });
        expect(problems).toEqual([{ field: 'capture.(a field name not repeated here)', message: 'is not a known field' }]);
      }
    });
  });

  it('accepts a purpose group only where an objection is meant', () => {
    expect(problemsOf(commandJson.object('subject-1', { purpose: 'direct-marketing' }))).toBeUndefined();
    expect(problemsOf(commandJson.withdrawConsent('subject-1', { purpose: 'direct-marketing' }))?.[0].field).toBe('purpose');
  });

  it.each([
    ['an e-mail address', 'jan.peeters@example.be', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['an international phone number', '+32475123456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian mobile number', '0475123456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian mobile number written in groups', '0475-12-34-56', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian number written with dots', '02.202.41.11', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a phone number inside an id', 'caller:0475123456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    // Found in review: the international form as switches write it, without a `+`.
    ['a Belgian mobile number as a switch writes it', '32475123456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian mobile number with 00 inside an id', 'msisdn-0032475123456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian mobile number without + inside an id', 'msisdn:32475123456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian mobile number written in groups, as a switch writes it', '32.475.12.34.56', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian mobile number grouped in threes inside an id', 'caller:0475.123.456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a Belgian mobile number glued to what it is', 'msisdn32475123456', 'must be a pseudonymous id, not an e-mail address or phone number'],
    ['a control character', 'subject\u0000-1', 'must not contain control characters'],
    ['a line break', 'subject\n1', 'must not contain control characters'],
    ['nothing', '', 'must be 1 to 128 characters long'],
    ['a very long id', 'x'.repeat(129), 'must be 1 to 128 characters long'],
    ['a space', 'subject 1', 'must be a pseudonymous id: letters, digits and . _ : - only, starting with a letter or digit'],
    // Found by an integrator: "-abc" was told "letters, digits and . _ : - only", which it is.
    ['an id starting with a hyphen', '-abc', 'must be a pseudonymous id: letters, digits and . _ : - only, starting with a letter or digit'],
  ])('refuses %s as subject id', (_, subjectId, message) => {
    expect(problemsOf(commandJson.endRelationship(subjectId))).toEqual([{ field: 'subjectId', message }]);
  });

  it.each([
    ['a number', 1714554000000],
    ['a date without a time zone', '2024-05-01T09:00:00'],
    ['an impossible date', '2024-02-30T09:00:00Z'],
    ['words', 'yesterday'],
  ])('refuses %s as occurredAt', (_, occurredAt) => {
    expect(problemsOf(commandJson.endRelationship('subject-1', { capture: { occurredAt } }))).toEqual([
      { field: 'capture.occurredAt', message: expect.stringMatching(/^must be an ISO-8601 date-time/) },
    ]);
  });

  it('refuses a choice dated more than five minutes in the future', () => {
    expect(problemsOf(commandJson.endRelationship('subject-1', { capture: { occurredAt: '2024-05-01T09:05:01Z' } }))).toEqual([
      { field: 'capture.occurredAt', message: 'must not be more than 5 minutes ahead of the server clock' },
    ]);
    expect(problemsOf(commandJson.endRelationship('subject-1', { capture: { occurredAt: '2024-05-01T11:04:00+02:00' } }))).toBeUndefined();
  });

  // Found in review: a decoder whose clock had reset to 1970 withdrew a consent that then stood, since
  // the withdrawal was dated before it.
  it('refuses a choice dated before 2000, as a clock that was reset', () => {
    expect(problemsOf(commandJson.withdrawConsent('subject-1', { capture: { occurredAt: '1970-01-01T00:00:07Z' } }))).toEqual([
      { field: 'capture.occurredAt', message: 'must not be before 2000-01-01T00:00:00Z: a device clock that was reset reads 1970' },
    ]);
    expect(problemsOf(commandJson.withdrawConsent('subject-1', { capture: { occurredAt: '2000-01-01T00:00:00Z' } }))).toBeUndefined();
  });

  it('refuses text holding half of a surrogate pair, which PostgreSQL could not store', () => {
    expect(problemsOf(commandJson.giveConsent('subject-1', { capture: { noticeVersion: 'v\ud800' } }))).toEqual([
      { field: 'capture.noticeVersion', message: 'must be valid Unicode text (it holds half of a surrogate pair)' },
    ]);
    expect(problemsOf(commandJson.giveConsent('subject-1', { capture: { noticeVersion: 'v😀' } }))).toBeUndefined();
  });

  it('refuses keys that would rebind a prototype, as JSON.parse leaves them', () => {
    const hostile = JSON.parse('{"type":"EndRelationship","subjectId":"s-1","capture":{"touchpoint":"shop","actor":{"kind":"subject","__proto__":{"admin":true}}}}');
    expect(problemsOf(hostile)).toEqual([{ field: 'capture.actor.__proto__', message: 'is not an allowed field name' }]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses deep nesting before building anything from it', () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 50_000; level += 1) deep = [deep];
    expect(problemsOf({ ...commandJson.endRelationship('subject-1'), capture: deep })).toEqual([
      { field: expect.stringMatching(/^capture/), message: 'is nested too deeply (at most 6 levels)' },
    ]);
  });

  // Found by an integrator: a request without its purpose or capture was told "(got a undefined)".
  it('says a required field left out is required, not that it got "a undefined"', () => {
    const { purpose: _purpose, capture: _capture, ...withoutPurposeAndCapture } = commandJson.withdrawConsent('subject-1');
    expect(problemsOf(withoutPurposeAndCapture)).toEqual([
      { field: 'purpose', message: 'must be text (got nothing: the field is required)' },
      { field: 'capture', message: 'must be an object (got nothing: the field is required)' },
    ]);
  });

  it('refuses null where a field may only be left out, so no null reaches an event', () => {
    expect(problemsOf(commandJson.restrictChannel('subject-1', { purpose: null, brand: null, capture: { occurredAt: null, locale: null } }))).toEqual([
      { field: 'purpose', message: 'must be text (got null)' },
      { field: 'brand', message: 'must be one of proximus, scarlet (got null)' },
      { field: 'capture.occurredAt', message: 'must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T09:00:00Z (got null)' },
      { field: 'capture.locale', message: 'must be a BCP 47 language tag such as fr-BE (got null)' },
    ]);
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, 42, 'GiveConsent', [commandJson.endRelationship('subject-1')]]) {
      expect(problemsOf(body)).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    }
  });
});

describe('building the domain command', () => {
  it('stamps recordedAt from the edge clock and defaults occurredAt and brand', async () => {
    const vault = new InMemoryVault();
    const parsed = await parseCommandRequest(commandJson.startRelationship('subject-1'), { catalogue, now: NOW, vault, idempotencyKey: 'key-1' });
    expect(parsed.command).toEqual({
      type: 'StartRelationship',
      subjectId: 'subject-1',
      brand: 'proximus',
      capture: { touchpoint: 'myproximus-web', actor: { kind: 'subject' }, occurredAt: NOW, recordedAt: NOW, idempotencyKey: 'key-1' },
      data: { relationship: 'customer' },
    });
  });

  it('normalises occurredAt to UTC with milliseconds', async () => {
    const parsed = await parseCommandRequest(commandJson.endRelationship('subject-1', { capture: { occurredAt: '2024-05-01T10:30:00+02:00' } }), {
      catalogue,
      now: NOW,
      vault: new InMemoryVault(),
      idempotencyKey: 'key-1',
    });
    expect(parsed.command?.capture.occurredAt).toBe('2024-05-01T08:30:00.000Z');
  });

  it('records a choice dated a little ahead of the edge clock as made when it arrived', async () => {
    const parsed = await parseCommandRequest(commandJson.endRelationship('subject-1', { capture: { occurredAt: '2024-05-01T09:02:00Z' } }), {
      catalogue,
      now: NOW,
      vault: new InMemoryVault(),
      idempotencyKey: 'key-1',
    });
    expect(parsed.command?.capture).toMatchObject({ occurredAt: NOW, recordedAt: NOW, statedAt: '2024-05-01T09:02:00.000Z' });
  });

  // Found in review: an erasure dated 2020 made every answer since then say the subject was erased,
  // though their key, and with it their data, was destroyed only now.
  it('dates an erasure when it is recorded, keeping the instant the channel stated', async () => {
    const parsed = await parseCommandRequest(commandJson.eraseSubject('subject-1', { capture: { occurredAt: '2020-01-01T00:00:00Z' } }), {
      catalogue,
      now: NOW,
      vault: new InMemoryVault(),
      idempotencyKey: 'key-1',
    });
    expect(parsed.command?.capture).toMatchObject({ occurredAt: NOW, recordedAt: NOW, statedAt: '2020-01-01T00:00:00.000Z' });
  });

  it('seals contact details, evidence and justifications with the subject key before the domain sees them', async () => {
    const vault = new InMemoryVault();
    const context = { catalogue, now: NOW, vault, idempotencyKey: 'key-1' };
    const consent = await parseCommandRequest(
      commandJson.giveConsent('prospect-9', {
        purpose: 'prospect-contact-collection-events',
        contact: { name: 'Jan Peeters', email: 'jan@example.be' },
        capture: { touchpoint: 'event', noticeVersion: TEST_NOTICE, evidenceRef: 'form-2024-117' },
      }),
      context,
    );
    const objection = await parseCommandRequest(commandJson.object('prospect-9', { purpose: 'security-cctv', justification: 'I am filmed at work.' }), context);

    const personalData = (consent.command?.data as { personalData?: string }).personalData;
    const evidenceRef = consent.command?.capture.evidenceRef;
    const justification = (objection.command?.data as { justification?: string }).justification;
    expect([personalData, evidenceRef, justification].every(isSealed)).toBe(true);
    expect(JSON.stringify([consent, objection])).not.toMatch(/Jan Peeters|jan@example\.be|form-2024-117|filmed/);
    expect(JSON.parse((await vault.unseal('prospect-9', personalData as never))!)).toEqual({ name: 'Jan Peeters', email: 'jan@example.be' });
  });

  it('creates no key for a request it refuses', async () => {
    const vault = new InMemoryVault();
    const parsed = await parseCommandRequest(commandJson.object('subject-1', { purpose: 'nothing-real', justification: 'secret reasons' }), {
      catalogue,
      now: NOW,
      vault,
      idempotencyKey: 'key-1',
    });
    expect(parsed.errors).toHaveLength(1);
    expect(await vault.hasKey('subject-1')).toBe(false);
  });
});

describe('telling contact details in text that stays in clear', () => {
  it.each([
    'jan.peeters@example.be',
    'call-0475123456',
    '0475 12 34 56',
    '+32475123456',
    'ref/+32 2 202 41 11',
    // Found in review: a Belgian mobile as switches write it, or grouped in threes, passed.
    'call-32475123456',
    'msisdn-0032475123456',
    'caller gave number 0032 475 12 34 56',
    'tel 0475 123 456',
    'v-0032 475 12 34 56',
    // Landlines, and numbers with their area code in parentheses, passed until the twelfth session.
    'call back on 02 123 45 67',
    'office 02/123.45.67',
    'Brugge 050 12 34 56',
    'call (02) 123 45 67',
    'mobile (0475) 12 34 56',
    'ring +32 (0)2 123 45 67',
    'ring +32 (0)475 12 34 56',
    'caller gave 0032 2 123 45 67',
    // Found in review: addresses written to slip past filters, and full-width signs, passed.
    'jana(at)example(dot)be',
    'jana [at] example [dot] be',
    'jana (arobase) example (point) be',
    'mail jana＠example.be',
    'call ０４７５ １２ ３４ ５６',
  ])('finds one in %s', (text) => {
    expect(contactDetailsProblem(text)).toBeDefined();
  });

  // Idempotency keys are mostly UUIDs, whose all-digit groups must never pass for a phone number.
  // Keys and ids channels really use: UUIDs, ULIDs, dates and times, order and customer numbers.
  it.each([
    '0123e4567-0123-4567-8901-012345678901',
    '01234567-0412-4567-8912-012345678901',
    '2024-02-27',
    'order-2024-05-01T09:00:00Z',
    '01HZX3K9Q2W8E7R6T5Y4U3I2O1',
    'cust-0123456789',
    'ORD-0001234567',
    '2024-06-01-103000',
    '20240601-0930-01234',
    'k+20240601',
    'inv_0012345678',
    '2024.06.01.12.30.00',
    '2024/02/27 09:30',
    'order 20240601 0930 0123',
    'batch-010-1234-5678',
    // Found in review: account and invoice numbers with a region code and a hyphen were refused.
    'inv-04-2024001',
    'billing-run-03-2024112',
    'cust-02-1234567',
  ])(
    'finds none in %s',
    (text) => {
      expect(contactDetailsProblem(text)).toBeUndefined();
    },
  );

  it('finds none in random UUIDs', () => {
    const found = Array.from({ length: 200_000 }, () => randomUUID()).filter((id) => contactDetailsProblem(id) !== undefined);
    expect(found).toEqual([]);
  });
});

// Found in review: national register numbers and bank accounts passed into text kept in clear.
describe('telling numbers that identify a person in free text that stays in clear', () => {
  it.each([
    'erasure asked by 85.07.30-033.28',
    'NN 85073003328',
    'rrn 850730 033 28',
    'born 2001: 01.02.03-045.26',
    'refund to BE71 0961 2345 6769',
    'refund to BE71096123456769 SEPA',
    'iban NL91ABNA0417164300',
    'FR14 2004 1010 0505 0001 3M02 606',
    'mail jana(at)example(dot)be',
    // Found in review: other separators, and lower case, passed.
    'born 85-07-30-033-28',
    'NN 85/07/30-033.28',
    'refund to be71 0961 2345 6769',
    'refund to BE71-0961-2345-6769',
    'refund to BE71.0961.2345.6769',
    'refund to BE 71 0961 2345 6769',
  ])('finds one in %s', (text) => {
    expect(personalDataInTextProblem(text)).toBeDefined();
  });

  it.each([
    // The same shapes with a wrong check digit, and numbers of the same length that are neither.
    'ref 85.07.30-033.29',
    'order 20240601123',
    'born 2001: 01.02.03-045.95',
    'BE71 0961 2345 6768',
    'NL91ABNA0417164301',
    'art. 17(3)(b) GDPR, art. 6(1)(c)',
    '2024-02-27',
    'statement of 2024-06-01, section 11.2',
    'BE12 is the first of 2024',
    // Found in review: order numbers that start with a date passed a "bis" number's check.
    'court order 20240101063',
    // A bis month is the month plus 20 or 40: 65 is none, even with a check that holds.
    'ref 85.65.30-033.46',
  ])('finds none in %s', (text) => {
    expect(personalDataInTextProblem(text)).toBeUndefined();
  });

  it('takes few order numbers that start with a date for a national register number', () => {
    const flagged = Array.from({ length: 20_000 }, (_, index) => {
      const day = new Date(Date.UTC(2020, 0, 1) + (index % 2000) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
      return `order ${day}${String(index % 1000).padStart(3, '0')}`;
    }).filter((text) => personalDataInTextProblem(text) !== undefined);
    expect(flagged).toEqual([]);
  });

  it('leaves idempotency keys to the contact-details screen: an 11-digit order number may pass a check', () => {
    expect(personalDataInTextProblem('call-85073003328')).toBeDefined();
    expect(contactDetailsProblem('call-85073003328')).toBeUndefined();
  });
});
