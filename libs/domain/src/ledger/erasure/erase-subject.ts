import type { EraseSubject } from '../commands';
import type { SubjectErased } from '../events';
import { factOf } from '../facts';
import type { Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';

export function eraseSubject(command: EraseSubject, ledger: Ledger): SubjectErased[] {
  if (ledger.erasure) return [];
  // An erasure blocks the id for years (the key store makes it no new key, every later choice is
  // refused): recorded for an id the ledger never heard of, a mistyped id in a DPO's tool would
  // lock out whichever customer is later given it, and erase nothing.
  if (ledger.revision === -1) throw new LedgerRuleBroken('subject-unknown', command);
  return [{ type: 'SubjectErased', data: { ...factOf(command), basis: command.data.basis } }];
}
