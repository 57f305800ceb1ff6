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
