import { personalDataInTextProblem } from './request-fields';

/**
 * A key of the caller's JSON as it may appear in an error's `field`: every field we know is a
 * short identifier, so a key shaped otherwise (`{"jan.peeters@example.be": 1}`), or one the
 * personal-data screen flags (an IBAN), is not repeated. Errors go back to the caller, and from
 * the command topic to a results topic every channel system reads (found in review).
 */
export const fieldNameForMessage = (key: string): string =>
  /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/.test(key) && personalDataInTextProblem(key) === undefined ? key : '(a field name not repeated here)';
