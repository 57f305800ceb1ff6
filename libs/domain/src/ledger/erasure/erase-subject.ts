import type { EraseSubject } from '../commands';
import type { SubjectErased } from '../events';
import { factOf } from '../facts';
import type { Ledger } from '../ledger';

export function eraseSubject(command: EraseSubject, ledger: Ledger): SubjectErased[] {
  if (ledger.erasure) return [];
  return [{ type: 'SubjectErased', data: { ...factOf(command), basis: command.data.basis } }];
}
