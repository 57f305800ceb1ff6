import fc from 'fast-check';
import { contactDetailsProblem } from './request-fields';

/**
 * The e-mail screens as first written, read plainly: tried from every character and every space,
 * they took time growing with the square of a long text (found in review, 2026-11-30), and were
 * rewritten to start at the `@` and at a run's first space. What they find must not change.
 */
const PLAIN = {
  emailInside: /[^\s@]+@[^\s@]+\.[A-Za-z]{2,}/,
  writtenAt: /\s*[([{<]\s*(?:at|arobase|apenstaartje)\s*[)\]}>]\s*/gi,
  writtenDot: /\s*[([{<]\s*(?:dot|point|punt)\s*[)\]}>]\s*/gi,
};
const holdsAnAddressAsPlainlyWritten = (text: string): boolean =>
  PLAIN.emailInside.test(text.normalize('NFKC').replace(PLAIN.writtenAt, '@').replace(PLAIN.writtenDot, '.'));

/** What addresses, and texts that come close to one, are made of: spaces of several kinds, brackets, `@`, dots, full-width forms. */
const PIECES = [
  ' ', '  ', '\t', '\n', '\u00a0', '\u2003', '\u3000', '\ufeff',
  '(', ')', '[', ']', '{', '}', '<', '>', '（', '）', '［', '］', '＜', '＞',
  '@', '＠', '﹫', '.', '．', '。',
  'at', 'AT', 'ａｔ', 'dot', 'DOT', 'ｄｏｔ', 'point', 'punt', 'arobase', 'apenstaartje',
  'a', 'x', 'é', 'jan', 'be', 'com', 'ſ', '\ud83d\ude00', '\ud800',
  '(at)', ' (at) ', '[dot]', ' ( dot ) ', '＜at＞',
];
const textNearAnAddress = fc
  .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3 }), fc.string({ unit: 'grapheme', maxLength: 2 })), { maxLength: 25 })
  .map((pieces) => pieces.join(''))
  // Without digits the phone screens find nothing, so what the screen finds is an address or nothing.
  .filter((text) => !/\d/.test(text.normalize('NFKC')));

describe('the e-mail screens, rewritten to be tried at fewer places', () => {
  it('find an address in exactly the texts the plainly written screens found one in', () => {
    fc.assert(
      fc.property(textNearAnAddress, (text) => {
        expect(contactDetailsProblem(text) !== undefined).toBe(holdsAnAddressAsPlainlyWritten(text));
      }),
      { numRuns: 20_000 },
    );
  });
});
