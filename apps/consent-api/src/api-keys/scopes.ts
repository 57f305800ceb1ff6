import type { LedgerCommandType } from '@consent-ledger/domain';

/** What an API key may do. */
export const SCOPES = [
  'commands:write',
  'decisions:read',
  'history:read',
  'objections:review',
  'subjects:erase',
  'rights:manage',
] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (value: unknown): value is Scope => (SCOPES as readonly unknown[]).includes(value);

/**
 * Reviewing an objection is the controller's decision on compelling grounds, and erasure destroys
 * data for good: both need a scope of their own, not the channels' everyday `commands:write`.
 */
export function scopeToRecord(type: LedgerCommandType): Scope {
  switch (type) {
    case 'ReviewObjection':
      return 'objections:review';
    case 'EraseSubject':
      return 'subjects:erase';
    default:
      return 'commands:write';
  }
}
