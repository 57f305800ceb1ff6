/**
 * Numbers shaped like a person's national register number or bank account, their check digits
 * computed here from made-up parts: tests never carry a real person's number.
 */

const twoDigits = (value: number): string => String(value).padStart(2, '0');

/**
 * Eleven digits: birth date as YYMMDD (the month raised by 20 or 40 for a "bis" number), a serial,
 * and 97 minus the first nine digits' remainder by 97, with a 2 in front of them for people born
 * from 2000 on.
 */
export function nationalRegisterNumber({ born, serial, bisMonthOffset = 0 }: { born: string; serial: number; bisMonthOffset?: 0 | 20 | 40 }): string {
  const [year, month, day] = born.split('-').map(Number);
  const firstNine = `${twoDigits(year % 100)}${twoDigits(month + bisMonthOffset)}${twoDigits(day)}${String(serial).padStart(3, '0')}`;
  const checked = year >= 2000 ? BigInt(`2${firstNine}`) : BigInt(firstNine);
  return `${firstNine}${twoDigits(97 - Number(checked % 97n))}`;
}

/** As printed on an identity card: `85.07.30-033.28`. */
export const withDotsAndDash = (digits: string): string =>
  `${digits.slice(0, 2)}.${digits.slice(2, 4)}.${digits.slice(4, 6)}-${digits.slice(6, 9)}.${digits.slice(9)}`;

/** The same number with its last digit changed: the check no longer holds. */
export const withWrongCheck = (digits: string): string => `${digits.slice(0, -1)}${(Number(digits.slice(-1)) + 1) % 10}`;

/** ISO 13616: the check digits that make the whole, rearranged, leave 1 when divided by 97. */
export function iban(country: string, bban: string): string {
  const asDigits = [...`${bban}${country}00`].map((char) => (char >= 'A' ? String(char.charCodeAt(0) - 55) : char)).join('');
  return `${country}${twoDigits(98 - Number(BigInt(asDigits) % 97n))}${bban}`;
}

/** As banks print it: `BE68 5390 0754 7034`. */
export const inGroupsOfFour = (compact: string): string => compact.replace(/(.{4})(?=.)/g, '$1 ');
