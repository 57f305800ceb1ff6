import { randomUUID } from 'node:crypto';
import { pseudonymousIdProblem } from './request-fields';
import { iban, inGroupsOfFour, nationalRegisterNumber, withDotsAndDash, withWrongCheck } from './testing/identity-numbers';

const REFUSED = 'must be a pseudonymous id, not a national register number or bank account number';

const bornIn1985 = nationalRegisterNumber({ born: '1985-07-30', serial: 33 });
const bornIn2005 = nationalRegisterNumber({ born: '2005-03-14', serial: 123 });
/** Its eleven digits start with 00, as an international phone number does. */
const bornIn2000 = nationalRegisterNumber({ born: '2000-02-29', serial: 1 });
const bisPlus20 = nationalRegisterNumber({ born: '1990-11-02', serial: 7, bisMonthOffset: 20 });
const bisPlus40 = nationalRegisterNumber({ born: '2012-01-28', serial: 998, bisMonthOffset: 40 });
/** A valid check on a "date" no one is born on: month 13. */
const monthThirteen = nationalRegisterNumber({ born: '1985-13-05', serial: 42 });
/** And day 45. */
const dayFortyFive = nationalRegisterNumber({ born: '1985-07-45', serial: 42 });

const belgianAccount = iban('BE', '539007547034');
const dutchAccount = iban('NL', 'ABNA0417164300');
const luxembourgAccount = iban('LU', '0019400644750000');
const frenchAccount = iban('FR', '20041010050500013M02606');
const germanAccount = iban('DE', '370400440532013000');

// Found in review: a channel keyed on the national register number or a bank account had it
// recorded and published in clear, where e-mail addresses and phone numbers were refused.
describe('refusing a national register number or bank account as a pseudonymous id', () => {
  it('computes the test numbers as the registry and banks do', () => {
    expect(bornIn1985).toBe('85073003328');
    expect(belgianAccount).toBe('BE68539007547034');
  });

  it.each([
    ['born in the 1900s, as on the identity card', withDotsAndDash(bornIn1985)],
    ['born in the 2000s, as on the identity card', withDotsAndDash(bornIn2005)],
    ['born in 2000, as on the identity card', withDotsAndDash(bornIn2000)],
    ['a bis number (month + 20), as on the card', withDotsAndDash(bisPlus20)],
    ['a bis number (month + 40), as on the card', withDotsAndDash(bisPlus40)],
    ['grouped with dashes', `${bornIn1985.slice(0, 6)}-${bornIn1985.slice(6, 9)}-${bornIn1985.slice(9)}`],
    ['grouped with spaces', `${bornIn1985.slice(0, 6)} ${bornIn1985.slice(6, 9)} ${bornIn1985.slice(9)}`],
    ['grouped with dots only', withDotsAndDash(bornIn2005).replace('-', '.')],
    ['with an impossible month: the shape says enough', withDotsAndDash(monthThirteen)],
  ])('refuses a national register number %s', (_, id) => {
    expect(pseudonymousIdProblem(id)).toBe(REFUSED);
  });

  it.each([
    ['a Belgian one', belgianAccount],
    ['a Belgian one in groups of four', inGroupsOfFour(belgianAccount)],
    ['a Belgian one in lower case', belgianAccount.toLowerCase()],
    ['a Belgian one grouped with dashes', inGroupsOfFour(belgianAccount).replace(/ /g, '-')],
    ['a Dutch one', dutchAccount],
    ['a Dutch one in groups of four', inGroupsOfFour(dutchAccount)],
    ['a Luxembourg one', luxembourgAccount],
    ['a French one', frenchAccount],
    ['a French one in groups of four', inGroupsOfFour(frenchAccount)],
    ['a German one', germanAccount],
    ['a German one in groups of four', inGroupsOfFour(germanAccount)],
  ])('refuses an IBAN, %s', (_, id) => {
    expect(pseudonymousIdProblem(id)).toBe(REFUSED);
  });

  it.each([
    ['a national register number with a wrong check, as on the card', withDotsAndDash(withWrongCheck(bornIn1985))],
    ['one born in the 2000s with a wrong check, as on the card', withDotsAndDash(withWrongCheck(bornIn2005))],
    ['a bis number with a wrong check, as on the card', withDotsAndDash(withWrongCheck(bisPlus20))],
    ['a Belgian IBAN with a wrong check', withWrongCheck(belgianAccount)],
    ['a Dutch IBAN with a wrong check', withWrongCheck(dutchAccount)],
    ['a French IBAN with a wrong check', withWrongCheck(frenchAccount)],
    ['a German IBAN with a wrong check', withWrongCheck(germanAccount)],
    ['a Belgian IBAN one digit short', iban('BE', '53900754703')],
    ['an IBAN-shaped id of a country that has none', iban('XX', '539007547034')],
    ['a customer number', 'cust-000123'],
    ['a prefixed numeric id', `cust-${bornIn1985}`],
    ['a UUID', '85073003-3280-4e5f-9a1b-539007547034'],
    ['a UUID without dashes, in capitals', 'BE685390075470348507300332812345'],
  ])('accepts %s', (_, id) => {
    expect(pseudonymousIdProblem(id)).toBeUndefined();
  });

  // Found in review: eleven digits split once are customer and order numbers, not the identity
  // card's groups; about one in 48 passes the check by chance, and was refused. These three do.
  it.each([
    ['a year and a sequence number', '2024-0000006'],
    ['a year, month and sequence number', '202405-00050'],
    ['an account number and its suffix', '100000015-01'],
  ])('accepts eleven digits split once whose check holds, %s, as customer numbers may', (_, id) => {
    expect(pseudonymousIdProblem(id)).toBeUndefined();
  });

  it('accepts eleven digits split once, whatever their check digits', () => {
    const numbered = Array.from({ length: 10_000 }, (_, n) => [`2024-${String(n).padStart(7, '0')}`, `${100_000_000 + n}-01`, `202405-${String(n).padStart(5, '0')}`]).flat();
    expect(numbered.filter((id) => pseudonymousIdProblem(id) !== undefined)).toEqual([]);
  });

  it('accepts random UUIDs', () => {
    const refused = Array.from({ length: 100_000 }, () => randomUUID()).filter((id) => pseudonymousIdProblem(id) !== undefined);
    expect(refused).toEqual([]);
  });

  // Numeric customer numbers take this shape: one in 400 random ones passes the check and a birth
  // date, and that customer could never be recorded. Only the shape of an identity card is read.
  it.each([
    ['born in the 1900s', bornIn1985],
    ['born in the 2000s', bornIn2005],
    ['a bis number', bisPlus40],
    ['with a day no one is born on', dayFortyFive],
  ])('accepts eleven bare digits whose check holds, %s, as customer numbers may', (_, id) => {
    expect(pseudonymousIdProblem(id)).toBeUndefined();
  });
});
