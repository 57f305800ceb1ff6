import 'reflect-metadata';
import { Type } from 'class-transformer';
import { registerDecorator, ValidateIf, ValidateNested, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { toInstant } from '@consent-ledger/domain';

/**
 * The field rules every request class is written with. Each message is a sentence about the value
 * ("must be one of ..."); the field path travels separately in `{ field, message }`.
 *
 * The rule names and their constraints (lengths, patterns) are part of this file's contract:
 * `api-docs` in the HTTP app turns them into the OpenAPI schema, so the documentation cannot drift
 * from what is validated.
 */
export const FIELD_RULES = {
  oneOf: 'isOneOf',
  listOf: 'isListOf',
  instant: 'isInstantText',
  text: 'isText',
  pseudonymousId: 'isPseudonymousId',
  locale: 'isLocale',
  email: 'isEmailAddress',
  phone: 'isPhoneNumber',
  nested: 'isNestedObject',
  ids: 'isListOfIds',
} as const;

/** Letters, digits and `. _ : -`, starting with a letter or digit: no `@`, no spaces, no control characters. */
const PSEUDONYMOUS_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** International (+32…, 0032…, or 32… as switches write it) or Belgian national (04xx…) phone numbers written as an id. */
const LOOKS_LIKE_A_PHONE_NUMBER = /^(?:\+|00)\d{6,}$|^0\d{8,9}$|^32\d{8,9}$/;
/**
 * Control characters, and the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069):
 * they show a text in another order than it is stored, so a receipt could display one notice
 * version while the log holds another.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** BCP 47 language tag, loosely: `fr`, `fr-BE`, `nl-BE`, `de-Latn-BE`. */
const LOCALE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,63}$/;
const PHONE = /^\+?[0-9][0-9 ()./-]{5,24}$/;
/** RFC 5321's limit for a whole address. */
const MAX_EMAIL_LENGTH = 320;

/**
 * An e-mail address anywhere in a text: an `@` with a character of the address before it, and a
 * dot and two letters after it. Tried at each `@` only: written from the start of the local part
 * (`[^\s@]+@…`), it was tried from every character and took time growing with the square of a long
 * text without one (a 40,000-character header held the event loop 1.7 s; found in review).
 */
const EMAIL_INSIDE = /(?<=[^\s@])@[^\s@]+\.[A-Za-z]{2}/;
/**
 * A phone number inside a longer text: international (`+32 475 12 34 56`) or a Belgian mobile,
 * national or as switches and billing systems write it (`0475123456`, `0475 12 34 56`,
 * `0475 123 456`, `32475123456`, `0032 475 12 34 56`), not inside a longer run of letters or
 * digits. Landline-shaped runs (nine digits after a 0) are left alone inside text: dates, times
 * and order numbers take that shape too (`20240601-0930-01234`, `ORD-0001234567`). No UUID
 * passes for one: its groups of 4 cannot be cut into the mobile's pieces, and a run in its groups
 * of 8 or 12 is never bounded by non-alphanumerics (checked on millions of random UUIDs).
 */
const PHONE_INSIDE =
  /(?<![\dA-Za-z+])(?:\+\d{2,3}(?:[ .\/-]?\d){7,12}|(?:00[ .\/-]?32[ .\/-]?|32[ .\/-]?|0)4\d{2}(?:(?:[ .\/-]?\d{2}){3}|[ .\/-]?\d{3}[ .\/-]?\d{3}))(?![\dA-Za-z])/;
/**
 * A Belgian landline, or a number whose area code is in parentheses, inside text kept in clear,
 * written the way people group them: `02 123 45 67`, `02/123.45.67`, `050 12 34 56`,
 * `(02) 123 45 67`, `(0475) 12 34 56`, `+32 (0)2 123 45 67`, `0032 2 123 45 67`. A space, dot or
 * slash after the area code (or its parentheses, or after 32) is required, and so is one inside
 * the subscriber's digits: ungrouped runs, and the hyphenated groups of dates, order and account
 * numbers and UUIDs (`cust-02-1234567`, `inv-04-2024001`), never take these shapes. Not applied
 * to ids: ids a channel was given before it existed must stay reachable.
 */
const LANDLINE_INSIDE =
  /(?<![\dA-Za-z+])(?:(?:0[2349][ ./]|\(0[2349]\) ?)\d{3}[ ./]\d{2}[ ./]?\d{2}|(?:0[1-9]\d[ ./]|\(0[1-9]\d\) ?|\(04\d{2}\) ?)\d{2}[ ./]\d{2}[ ./]?\d{2}|(?:\+|00[ ./]?)32(?: ?\(0\) ?|[ ./])(?:[2349][ ./]?\d{3}|[1-9]\d[ ./]?\d{2}|4\d{2}[ ./]?\d{2})[ ./]?\d{2}[ ./]?\d{2})(?![\dA-Za-z])/;
/**
 * In an id, a number glued to the word for what it is (`msisdn32475123456`, `tel0475123456`).
 * Those words hold letters no hexadecimal id has, so no UUID takes this shape.
 */
const NAMED_PHONE_NUMBER = /(?:tel|msisdn|gsm|phone|mobile|mob|caller|call)(?:\+|00)?\d{8,}/i;
/** A value made only of digits, `+` and the separators people write phone numbers with. */
const DIGITS_AND_SEPARATORS = /^[\d+ ./()-]+$/;

/** A whole value that is a phone number, however it is grouped (`02.202.41.11`, `0475-12-34-56`). */
function isPhoneNumber(value: string): boolean {
  return DIGITS_AND_SEPARATORS.test(value) && LOOKS_LIKE_A_PHONE_NUMBER.test(value.replace(/[ ./()-]/g, ''));
}

/**
 * `(at)`, `[at]`, `(dot)` and their French and Dutch words, as people write addresses to slip past
 * filters, with the spaces around them. Spaces before the bracket are taken only from the start of
 * their run: tried from each space of a long run, the screens took time growing with its square.
 */
const WRITTEN_AT = /(?:(?<!\s)\s+)?[([{<]\s*(?:at|arobase|apenstaartje)\s*[)\]}>]\s*/gi;
const WRITTEN_DOT = /(?:(?<!\s)\s+)?[([{<]\s*(?:dot|point|punt)\s*[)\]}>]\s*/gi;

/**
 * The text as the screens read it: compatibility forms folded (a full-width `＠` or `０４７５` is an
 * `@` or `0475`) and bracketed words for `@` and `.` written as the signs.
 */
const asScreened = (text: string): string => text.normalize('NFKC').replace(WRITTEN_AT, '@').replace(WRITTEN_DOT, '.');

/** For text kept in clear in the log (notice versions, erasure bases, idempotency keys): contact details belong in sealed fields. */
export function contactDetailsProblem(text: string): string | undefined {
  const screened = asScreened(text);
  if (EMAIL_INSIDE.test(screened) || PHONE_INSIDE.test(screened) || LANDLINE_INSIDE.test(screened)) {
    return 'must not contain an e-mail address or phone number: it is kept in clear in the log';
  }
  return undefined;
}

/**
 * For free text kept in clear (an erasure's basis, a rights request's detail): besides contact
 * details, the numbers that identify a person outright, a Belgian national register number or a
 * bank account (IBAN), each recognised by its check digits. Idempotency keys are read only for
 * their unmistakable shapes (`identityNumberInKeyProblem`): an 11-digit order number passes a
 * national register number's check one time in fifty, and a channel whose keys were refused at
 * random could not work.
 */
export function personalDataInTextProblem(text: string): string | undefined {
  const contact = contactDetailsProblem(text);
  if (contact) return contact;
  const screened = asScreened(text);
  if (hasNationalRegisterNumber(screened) || hasIban(screened)) {
    return 'must not contain a national register number or bank account number: it is kept in clear in the log';
  }
  return undefined;
}

/**
 * What personal data an id that only traces a request holds, named for a message, or undefined:
 * an `X-Request-Id`, a command's or a decision question's correlation id. They are logged or passed
 * on to other systems as sent. Besides contact details, a national register number inside the id,
 * eleven bare digits included (found in review: `85073003328` was logged as sent), and an IBAN,
 * each by its check digits. About one numeric eleven-digit id in 500 is taken for a national
 * register number (or a phone number) by chance; a UUID or a trace id never is.
 */
export function personalDataInTraceId(id: string): 'an e-mail address or phone number' | 'a national register number or bank account number' | undefined {
  const screened = asScreened(id);
  // Read first, as for pseudonymous ids: the phone screens take a Dutch IBAN in groups for a phone number.
  if (hasNationalRegisterNumber(screened) || hasIbanInId(screened)) return 'a national register number or bank account number';
  return contactDetailsProblem(id) === undefined ? undefined : 'an e-mail address or phone number';
}

/**
 * An IBAN inside an id, as banks write it: its country in capitals, compact or in groups of four
 * with one separator throughout, bounded by what is not a letter or digit. Trace ids are
 * hexadecimal in lower case, and the free-text screen, which cuts a longer run to the country's
 * length and reads either case, took one W3C trace id in ten thousand for a Belgian IBAN (`be` and
 * two digits, then 1 in 97). UUIDs' groups (8-4-4-4-12) take neither shape in either case.
 */
const IBAN_IN_ID = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}([ .-]?)[A-Za-z0-9]{4}(?:\1[A-Za-z0-9]{4}){1,6}(?:\1[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])/g;

function hasIbanInId(id: string): boolean {
  for (const [written] of id.matchAll(IBAN_IN_ID)) {
    if (isCompactIban(written.replace(/[ .-]/g, '').toUpperCase())) return true;
  }
  return false;
}

/** YY.MM.DD-SSS.CC, with or without its separators (dots, dashes, slashes or spaces). */
const NATIONAL_REGISTER_NUMBER = /(?<![\dA-Za-z])(\d{2})[ ./-]?(\d{2})[ ./-]?(\d{2})[ ./-]?(\d{3})[ ./-]?(\d{2})(?![\dA-Za-z])/g;

function hasNationalRegisterNumber(text: string): boolean {
  for (const [written, year, month, day, serial, check] of text.matchAll(NATIONAL_REGISTER_NUMBER)) {
    // A "bis" number (no Belgian birth record) adds 20 or 40 to the month. Eleven bare digits with
    // such a month are far more often an order number that starts with a year (2024…, found in
    // review), so only a bis number written with separators counts.
    const isBis = Number(month) > 12;
    if (isBis && /^\d{11}$/.test(written)) continue;
    if (isNationalRegisterNumber(year, month, day, serial, check)) return true;
  }
  return false;
}

/** A birth month (raised by 20 or 40 for a "bis" number) and day a person can have, and check digits that hold. */
function isNationalRegisterNumber(year: string, month: string, day: string, serial: string, check: string): boolean {
  if (Number(month) > 52 || Number(month) % 20 > 12 || Number(day) > 31) return false;
  return hasNationalRegisterCheck(`${year}${month}${day}${serial}`, check);
}

/**
 * YY.MM.DD-SSS.CC exactly as the identity card prints it, not inside a longer run of digits. Letters
 * may touch it (`rrn85.07.30-033.28` was taken): the dots and dash are what make the shape rare.
 */
const NATIONAL_REGISTER_NUMBER_AS_PRINTED = /(?<!\d)(\d{2})\.(\d{2})\.(\d{2})-(\d{3})\.(\d{2})(?!\d)/g;

/**
 * For idempotency keys, kept in clear in the log and sent as the result's key, the events'
 * causation-id and in log lines (found in review: `85.07.30-033.28` reached all of them): only the
 * shapes that almost never occur by chance, a national register number written as the identity
 * card prints it and an IBAN as banks write it (its country in capitals, compact or in groups of
 * four), each with check digits that hold. Eleven bare digits, or split otherwise, pass: order
 * numbers take those shapes, and one in fifty passes the check, and a key is required, so a
 * channel whose keys were refused at random could not work.
 */
export function identityNumberInKeyProblem(key: string): string | undefined {
  const asPrinted = [...key.matchAll(NATIONAL_REGISTER_NUMBER_AS_PRINTED)].some(([, year, month, day, serial, check]) => isNationalRegisterNumber(year, month, day, serial, check));
  if (asPrinted || hasIbanInId(key)) return 'must not contain a national register number or bank account number: it is kept in clear in the log';
  return undefined;
}

/** The last two digits check the first nine: 97 minus their remainder by 97. */
function hasNationalRegisterCheck(firstNine: string, check: string): boolean {
  const base = Number(firstNine);
  // Born from 2000 on, the check is computed with a 2 in front of the nine digits.
  return 97 - (base % 97) === Number(check) || 97 - ((2_000_000_000 + base) % 97) === Number(check);
}

/**
 * A whole id written as the registry writes a national register number, YY.MM.DD-SSS.CC, or as
 * the date, serial and check in groups (YYMMDD-SSS-CC, YYMMDD SSS CC): a separator before and
 * after the serial, and the date's parts all separated or none.
 */
const NATIONAL_REGISTER_NUMBER_ID = /^(\d{2})(?:[ ./-](\d{2})[ ./-](\d{2})|(\d{2})(\d{2}))[ ./-](\d{3})[ ./-](\d{2})$/;

/**
 * Written in those groups, the shape says what it is, so the check digits decide. Other shapes are
 * not read: eleven bare digits, or eleven digits split once (`2024-0001234`, `202405-00017`,
 * `123456789-01`) are numeric customer and order numbers, and about one in 48 of them passes the
 * check by chance (found in review), so a customer given such a number could never be recorded,
 * nor withdraw a consent. As for landlines, ids are not screened where their shape is also a
 * legitimate customer number's.
 */
function isNationalRegisterNumberId(id: string): boolean {
  const parts = NATIONAL_REGISTER_NUMBER_ID.exec(id);
  if (!parts) return false;
  const [, year, separatedMonth, separatedDay, month = separatedMonth, day = separatedDay, serial, check] = parts;
  return hasNationalRegisterCheck(`${year}${month}${day}${serial}`, check);
}

/** Lengths of the IBANs of the countries whose customers and banks the operator meets. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24, FI: 18, FR: 27, GB: 22, GR: 27, HR: 21,
  HU: 28, IE: 22, IS: 26, IT: 27, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24,
  SE: 24, SI: 19, SK: 24,
};
/**
 * A country code, two check digits and groups of four as banks print them, with spaces, dots or
 * dashes between them or none, in either case.
 */
const IBAN_SHAPED = /(?<![A-Za-z0-9])([A-Za-z]{2}) ?(\d{2})((?:[ .-]?[A-Za-z0-9]{1,4}){3,8})(?![A-Za-z0-9])/g;

function hasIban(text: string): boolean {
  for (const [, writtenCountry, check, rest] of text.matchAll(IBAN_SHAPED)) {
    const country = writtenCountry.toUpperCase();
    const length = IBAN_LENGTHS[country];
    // The shape may run on into the next word ("BE71 0961 2345 6769 SEPA"): the country's length says where it ends.
    const iban = `${country}${check}${rest.replace(/[ .-]/g, '').toUpperCase()}`.slice(0, length);
    if (isCompactIban(iban)) return true;
  }
  return false;
}

/**
 * A whole id that is an IBAN as banks print it: in groups of four separated by a space, dot or dash,
 * or none. The country's exact length and the check digits (one chance in 97) must both hold, so
 * a UUID (36 characters, or 32 without dashes: no country's length) is never taken for one.
 */
const IBAN_ID = /^[A-Za-z]{2} ?\d{2}(?:[ .-]?[A-Za-z0-9]{4})*(?:[ .-]?[A-Za-z0-9]{1,3})?$/;

function isIbanId(id: string): boolean {
  if (!IBAN_ID.test(id)) return false;
  return isCompactIban(id.replace(/[ .-]/g, '').toUpperCase());
}

/** An IBAN without separators, in capitals: its country's exact length, and check digits that hold. */
function isCompactIban(iban: string): boolean {
  return IBAN_LENGTHS[iban.slice(0, 2)] === iban.length && ibanRemainder(iban) === 1;
}

/** ISO 13616: the first four characters moved to the end, letters as 10–35, the whole taken mod 97. */
function ibanRemainder(iban: string): number {
  let remainder = 0;
  for (const char of `${iban.slice(4)}${iban.slice(0, 4)}`) {
    const value = char >= 'A' ? char.charCodeAt(0) - 55 : Number(char);
    remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97;
  }
  return remainder;
}

export function isPseudonymousId(value: unknown): value is string {
  return pseudonymousIdProblem(value) === undefined;
}

/**
 * What is wrong with `value` as a pseudonymous id, if anything. With `identityNumbers: 'reachable'`
 * a national register number or IBAN passes: for what a person's rights need of a subject the
 * ledger may already hold under one (its erasure, its history and export), since such ids were
 * recorded until 2026-11-29 and their subjects must not be locked out of being erased.
 */
export function pseudonymousIdProblem(value: unknown, identityNumbers: 'refused' | 'reachable' = 'refused'): string | undefined {
  if (typeof value !== 'string') return 'must be text';
  if (value.length === 0 || value.length > 128) return 'must be 1 to 128 characters long';
  if (CONTROL_CHARACTERS.test(value)) return 'must not contain control characters';
  if (value.includes('@')) return 'must be a pseudonymous id, not an e-mail address or phone number';
  // Ids travel in clear into the log, every Kafka topic's keys, logs and read models. Read before
  // the phone screens, which take a Dutch IBAN in groups (`… 0417 1643 00`) or the number of
  // someone born in 2000 (`00…`) for a phone number: the check digits say better what it is.
  if (identityNumbers === 'refused' && (isNationalRegisterNumberId(value) || isIbanId(value))) {
    return 'must be a pseudonymous id, not a national register number or bank account number';
  }
  if (isPhoneNumber(value) || PHONE_INSIDE.test(value) || NAMED_PHONE_NUMBER.test(value)) {
    return 'must be a pseudonymous id, not an e-mail address or phone number';
  }
  if (!PSEUDONYMOUS_ID.test(value)) return 'must be a pseudonymous id: letters, digits and . _ : - only, starting with a letter or digit';
  return undefined;
}

function rule(
  name: string,
  constraints: unknown[],
  validate: (value: unknown, request?: object) => boolean,
  message: (value: unknown, request?: object) => string,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      constraints,
      options,
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => validate(value, args?.object),
        defaultMessage: (args?: ValidationArguments) => message(args?.value, args?.object),
      },
    });
}

/** A refused value named by its kind only: a number may be a phone number, so it is not repeated either. */
const kindOf = (value: unknown): string => {
  // A required field left out: "got a undefined" read as a bug of ours to the integrators who met it.
  if (value === undefined) return 'nothing: the field is required';
  if (typeof value === 'string') return 'text';
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return 'a number';
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
};

/**
 * A value refused by a closed list (a purpose, a channel, a touchpoint), as the message repeats it.
 * Messages reach more than the caller: the Kafka intake sends them to `consent.command-results.v1`,
 * which every channel system reads, for 7 days. A value is repeated only when it is shaped like the
 * list's own names (at most 40 letters, digits and `. _ : -`) and no screen of personal data flags
 * it: a misspelt purpose is shown, an e-mail address, phone number or name in the wrong field is not.
 */
export function describeRefusedName(value: unknown): string {
  if (typeof value !== 'string') return kindOf(value);
  // A blank drop-down entry or an unset query parameter (`channel=`), not text that was hidden.
  if (value === '') return 'empty text';
  const isShownSafely = value.length <= 40 && pseudonymousIdProblem(value) === undefined && personalDataInTextProblem(value) === undefined;
  return isShownSafely ? JSON.stringify(value) : 'text not repeated here, as it may hold personal data';
}

/** For fields of free text (an instant, a locale): the kind of a value that is not text; text is never repeated. */
const gotUnlessText = (value: unknown): string => (typeof value === 'string' ? '' : ` (got ${kindOf(value)})`);

/**
 * The field may be left out. `null` is not "left out": it is checked like any other value and
 * refused, so no null reaches an event (class-validator's `IsOptional` would let it through).
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_, value) => value !== undefined);
}

export function IsOneOf(values: readonly string[]): PropertyDecorator {
  const allowed = new Set(values);
  return rule(
    FIELD_RULES.oneOf,
    [values],
    (value) => typeof value === 'string' && allowed.has(value),
    (value) => `must be one of ${values.join(', ')} (got ${describeRefusedName(value)})`,
  );
}

/**
 * A non-empty list of distinct values from `values` (a field that may be left out is left out, not
 * sent empty). A bad item is reported at its own path (`channels[1]`): the message starts with the
 * item's index, which `validateRequest` moves into the field path.
 */
export function IsListOf(values: readonly string[], { maxItems = values.length } = {}): PropertyDecorator {
  const allowed = new Set(values);
  const firstProblem = (value: unknown): string | undefined => {
    if (!Array.isArray(value)) return 'must be a list';
    if (value.length === 0) return 'must not be empty';
    if (value.length > maxItems) return `must hold at most ${maxItems} items`;
    const bad = value.findIndex((item) => typeof item !== 'string' || !allowed.has(item));
    if (bad >= 0) return `[${bad}] must be one of ${values.join(', ')} (got ${describeRefusedName(value[bad])})`;
    const repeated = value.findIndex((item, index) => value.indexOf(item) !== index);
    if (repeated >= 0) return `[${repeated}] repeats ${describeRefusedName(value[repeated])}`;
    return undefined;
  };
  return rule(FIELD_RULES.listOf, [values, maxItems], (value) => firstProblem(value) === undefined, (value) => firstProblem(value) ?? '');
}

/** Longer than any instant written with a time zone and nanoseconds. */
const MAX_INSTANT_LENGTH = 40;

/** ISO-8601 date-time with an explicit offset, on a day the calendar has (see `toInstant`). */
export function isInstantText(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_INSTANT_LENGTH && toInstant(value) !== undefined;
}

/** ISO-8601 date-time with an explicit offset; the edge normalises it with `toInstant`. */
export function IsInstantText(): PropertyDecorator {
  return rule(
    FIELD_RULES.instant,
    [MAX_INSTANT_LENGTH],
    isInstantText,
    (value) => `must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T09:00:00Z${gotUnlessText(value)}${offsetSignLost(value)}`,
  );
}

/** An offset whose + a URL's query string read as a space: `2024-05-01T09:00:00 01:00`. */
const SPACE_FOR_PLUS = /^\d{4}-\d{2}-\d{2}T[\d:.]+ \d{2}(?::?\d{2})?$/;

const offsetSignLost = (value: unknown): string =>
  typeof value === 'string' && SPACE_FOR_PLUS.test(value) ? ' (a query string reads + as a space: write its + as %2B)' : '';

/**
 * Free text without control characters (line breaks allowed only where `multiline`). `inClear`:
 * the text is stored as it is (not sealed), so it may not hold contact details.
 */
export function IsText({ maxLength, multiline = false, inClear = false }: { maxLength: number; multiline?: boolean; inClear?: boolean }): PropertyDecorator {
  const forbidden = multiline ? CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS : CONTROL_CHARACTERS;
  const problem = (value: unknown): string | undefined => {
    if (typeof value !== 'string') return `must be text (got ${kindOf(value)})`;
    if (value.trim().length === 0) return 'must not be empty';
    if (value.length > maxLength) return `must be at most ${maxLength} characters long`;
    if (forbidden.test(value)) return 'must not contain control characters';
    return inClear ? personalDataInTextProblem(value) : undefined;
  };
  return rule(FIELD_RULES.text, [maxLength], (value) => problem(value) === undefined, (value) => problem(value) ?? '');
}

/** A pseudonymous id; a national register number or IBAN passes where `reachableWhen` says the request reaches a subject already recorded (see `pseudonymousIdProblem`). */
export function IsPseudonymousId({ reachableWhen }: { reachableWhen?: (request: object) => boolean } = {}): PropertyDecorator {
  const problem = (value: unknown, request?: object) => pseudonymousIdProblem(value, request && reachableWhen?.(request) ? 'reachable' : 'refused');
  return rule(FIELD_RULES.pseudonymousId, [], (value, request) => problem(value, request) === undefined, (value, request) => problem(value, request) ?? '');
}

/** How many bad ids of one list are named at once: enough to fix a campaign list in one go. */
const MAX_BAD_IDS_NAMED = 100;

/**
 * A non-empty list of at most `maxItems` pseudonymous ids. Every bad one (up to 100) is reported at
 * its index, one `[index] message` per line, which `validateRequest` turns into one problem each.
 */
export function IsListOfIds({ maxItems }: { maxItems: number }): PropertyDecorator {
  const problems = (value: unknown): string | undefined => {
    if (!Array.isArray(value)) return 'must be a list';
    if (value.length === 0) return 'must not be empty';
    if (value.length > maxItems) return `must hold at most ${maxItems} ids`;
    const bad: string[] = [];
    for (let index = 0; index < value.length && bad.length < MAX_BAD_IDS_NAMED; index += 1) {
      const problem = pseudonymousIdProblem(value[index]);
      if (problem) bad.push(`[${index}] ${problem}`);
    }
    return bad.length > 0 ? bad.join('\n') : undefined;
  };
  return rule(FIELD_RULES.ids, [maxItems], (value) => problems(value) === undefined, (value) => problems(value) ?? '');
}

export function IsLocale(): PropertyDecorator {
  return rule(
    FIELD_RULES.locale,
    [LOCALE],
    (value) => typeof value === 'string' && LOCALE.test(value),
    (value) => `must be a BCP 47 language tag such as fr-BE${gotUnlessText(value)}`,
  );
}

export function IsEmailAddress(): PropertyDecorator {
  return rule(
    FIELD_RULES.email,
    [MAX_EMAIL_LENGTH],
    (value) => typeof value === 'string' && value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value),
    () => 'must be an e-mail address',
  );
}

export function IsPhoneNumber(): PropertyDecorator {
  return rule(FIELD_RULES.phone, [PHONE], (value) => typeof value === 'string' && PHONE.test(value), () => 'must be a phone number');
}

/**
 * A nested JSON object validated as `type` (a list or a string there is refused, not iterated).
 * `notEmpty`: an object with no field says nothing, and must not pass for details that were given.
 */
export function IsNestedObject(type: () => new () => object, { notEmpty = false }: { notEmpty?: boolean } = {}): PropertyDecorator {
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const problem = (value: unknown): string | undefined => {
    if (!isObject(value)) return `must be an object (got ${kindOf(value)})`;
    // Counted by value: the class the object is read into may declare its fields as undefined.
    return notEmpty && Object.values(value as object).every((field) => field === undefined) ? 'must hold at least one field' : undefined;
  };
  const decorators = [
    rule(FIELD_RULES.nested, [type, notEmpty], (value) => problem(value) === undefined, (value) => problem(value) ?? ''),
    ValidateNested(),
    Type(type),
  ];
  return (target, propertyName) => decorators.forEach((decorate) => decorate(target, propertyName));
}
