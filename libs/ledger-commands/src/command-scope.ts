import type { LedgerCommandType } from '@consent-ledger/domain';

/** What a caller must be allowed to record a command, on every way in (HTTP scopes, the command topic). */
export type CommandScope = 'commands:write' | 'relationships:write' | 'objections:review' | 'subjects:erase';

/**
 * Reviewing an objection is the controller's decision on compelling grounds, and erasure destroys
 * data for good: both need a scope of their own, not the channels' everyday `commands:write`. So
 * does the relationship, the CRM's and billing's fact: with `commands:write` a channel's key could
 * make anyone a customer, whom direct marketing then reaches without consent (soft opt-in), or end
 * a contract and the consents tied to it.
 */
export function scopeToRecord(type: LedgerCommandType): CommandScope {
  switch (type) {
    case 'ReviewObjection':
      return 'objections:review';
    case 'EraseSubject':
      return 'subjects:erase';
    case 'StartRelationship':
    case 'EndRelationship':
      return 'relationships:write';
    default:
      return 'commands:write';
  }
}
