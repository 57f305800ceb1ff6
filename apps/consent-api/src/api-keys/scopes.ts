/** What an API key may do. */
export const SCOPES = [
  'commands:write',
  /**
   * Records the start and end of a customer or prospect relationship: the CRM's and billing's fact,
   * not a choice a channel records. Being a customer allows direct marketing without consent (soft
   * opt-in), and an end ends the consents tied to the contract.
   */
  'relationships:write',
  'decisions:read',
  'history:read',
  /**
   * Opens the sealed personal data (contact details, evidence references, justifications) in the
   * subject export. Without it, an export with `history:read` shows them as withheld: an auditor's
   * key reads the proof, not everyone's personal data.
   */
  'personal-data:read',
  'objections:review',
  'subjects:erase',
  'rights:manage',
] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (value: unknown): value is Scope => (SCOPES as readonly unknown[]).includes(value);
