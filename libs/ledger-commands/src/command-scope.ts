import type { LedgerCommandType } from '@consent-ledger/domain';

/** What a caller must be allowed to record a command, on every way in (HTTP scopes, the command topic). */
export type CommandScope = 'commands:write' | 'objections:review' | 'subjects:erase';

/**
 * Reviewing an objection is the controller's decision on compelling grounds, and erasure destroys
 * data for good: both need a scope of their own, not the channels' everyday `commands:write`.
 */
export function scopeToRecord(type: LedgerCommandType): CommandScope {
  switch (type) {
    case 'ReviewObjection':
      return 'objections:review';
    case 'EraseSubject':
      return 'subjects:erase';
    default:
      return 'commands:write';
  }
}
