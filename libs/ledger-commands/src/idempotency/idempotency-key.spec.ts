import { randomInt, randomUUID } from 'node:crypto';
import { iban, inGroupsOfFour, nationalRegisterNumber, withDotsAndDash, withWrongCheck } from '../testing/identity-numbers';
import { idempotencyKeyProblem } from './idempotency-key';

const IDENTITY_NUMBER = 'must not contain a national register number or bank account number: it is kept in clear in the log';

const bornIn1985 = nationalRegisterNumber({ born: '1985-07-30', serial: 33 });
const bornIn2005 = nationalRegisterNumber({ born: '2005-03-14', serial: 123 });
const bisNumber = nationalRegisterNumber({ born: '1971-04-02', serial: 456, bisMonthOffset: 40 });
const belgianAccount = iban('BE', '539007547034');
const dutchAccount = iban('NL', 'ABNA0417164300');

// Found in review: `85.07.30-033.28` as a key reached the results topic's key, the events'
// causation-id header and the log, where keys holding contact details were refused.
describe('an idempotency key holding a national register number or an IBAN', () => {
  it.each([
    ['a national register number as the identity card prints it', withDotsAndDash(bornIn1985)],
    ['the number of someone born in the 2000s', withDotsAndDash(bornIn2005)],
    ['a bis number', withDotsAndDash(bisNumber)],
    ['a national register number inside a longer key', `tv-${withDotsAndDash(bornIn1985)}-1`],
    ['a national register number glued to letters before it', `rrn${withDotsAndDash(bornIn1985)}`],
    ['a national register number glued to letters after it', `${withDotsAndDash(bornIn1985)}nrn`],
    ['a compact IBAN', belgianAccount],
    ['an IBAN in groups of four with dashes', inGroupsOfFour(belgianAccount).replace(/ /g, '-')],
    ['an IBAN in groups of four with dots', inGroupsOfFour(dutchAccount).replace(/ /g, '.')],
    ['an IBAN inside a longer key', `sepa-${dutchAccount}:1`],
  ])('refuses %s', (_, key) => {
    expect(idempotencyKeyProblem(key)).toBe(IDENTITY_NUMBER);
  });

  it.each([
    ['eleven bare digits, as order numbers are written', bornIn1985],
    ['eleven digits split once', `${bornIn1985.slice(0, 4)}-${bornIn1985.slice(4)}`],
    ['a national register number as printed with a wrong check', withDotsAndDash(withWrongCheck(bornIn1985))],
    ['an IBAN with a wrong check', withWrongCheck(belgianAccount)],
    ['an IBAN in lower case, as hexadecimal ids are written', belgianAccount.toLowerCase()],
    ['an IBAN run on into more characters', `${belgianAccount}0000`],
    ['a date and an order number', '2024.05.01-001.17'],
  ])('takes %s', (_, key) => {
    expect(idempotencyKeyProblem(key)).toBeUndefined();
  });

  it('still refuses contact details, as before', () => {
    expect(idempotencyKeyProblem('call-0475123456-1')).toBe('must not contain an e-mail address or phone number: it is kept in clear in the log');
  });

  it.each([
    ['UUIDs', () => randomUUID()],
    ['UUIDs in capitals', () => randomUUID().toUpperCase()],
    ['numeric order numbers of 8 to 14 digits', () => String(randomInt(10 ** 7, 10 ** 14))],
    ['order numbers with a year', () => `ORD-${randomInt(2000, 2030)}-${String(randomInt(0, 10 ** 7)).padStart(7, '0')}`],
  ])('refuses none of 100,000 random %s for an identity number', (_, make) => {
    const refused = Array.from({ length: 100_000 }, make).filter((key) => idempotencyKeyProblem(key) === IDENTITY_NUMBER);
    expect(refused).toEqual([]);
  });
});
