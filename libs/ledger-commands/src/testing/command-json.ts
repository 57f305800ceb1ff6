/**
 * Command requests as channels send them (the JSON of `POST /v1/commands`), with readable
 * defaults: a Proximus customer choosing in MyProximus under the notice of 27 February 2024.
 * Override only what a test is about.
 */
export const TEST_NOTICE = '2024-02-27';

export type Json = Record<string, unknown>;

export const captureJson = (overrides: Json = {}): Json => ({ touchpoint: 'myproximus-web', actor: { kind: 'subject' }, ...overrides });

const command = (type: string, fields: Json) => (subjectId: string, overrides: Json = {}): Json => {
  const { capture, ...rest } = overrides;
  return { type, subjectId, ...fields, ...rest, capture: captureJson(capture as Json | undefined) };
};

/** A consent purpose for customers, with a channel and data sources: targeted TV advertising on Pickx. */
export const CONSENT_PURPOSE = 'targeted-tv-advertising-pickx';
/** A motivated-objection purpose (legitimate interest, art. 21(1)). */
export const MOTIVATED_PURPOSE = 'myproximus-app-usage-analytics';
export const LEGAL_OBLIGATION_PURPOSE = 'legal-retention-traffic-location-data';

export const commandJson = {
  startRelationship: command('StartRelationship', { relationship: 'customer' }),
  giveConsent: (subjectId: string, overrides: Json = {}): Json =>
    command('GiveConsent', { purpose: CONSENT_PURPOSE })(subjectId, {
      ...overrides,
      capture: { noticeVersion: TEST_NOTICE, ...(overrides.capture as Json | undefined) },
    }),
  withdrawConsent: command('WithdrawConsent', { purpose: CONSENT_PURPOSE }),
  object: command('Object', { purpose: 'direct-marketing' }),
  withdrawObjection: command('WithdrawObjection', { purpose: 'direct-marketing' }),
  reviewObjection: command('ReviewObjection', { purpose: MOTIVATED_PURPOSE, outcome: 'upheld' }),
  restrictChannel: command('RestrictChannel', { channel: 'sms' }),
  liftChannelRestriction: command('LiftChannelRestriction', { channel: 'sms' }),
  optOutSource: command('OptOutSource', { source: 'tv-viewing' }),
  optInSource: command('OptInSource', { source: 'tv-viewing' }),
  endRelationship: command('EndRelationship', {}),
  eraseSubject: command('EraseSubject', {}),
};

/**
 * One of every command type, in an order where each records something new for a fresh subject:
 * the story of a customer who uses every right and leaves.
 */
export const everyCommandType = (subjectId: string): Json[] => [
  commandJson.startRelationship(subjectId),
  commandJson.giveConsent(subjectId),
  commandJson.withdrawConsent(subjectId),
  commandJson.object(subjectId),
  commandJson.withdrawObjection(subjectId),
  commandJson.object(subjectId, { purpose: MOTIVATED_PURPOSE, justification: 'I do not want my app usage analysed.' }),
  commandJson.reviewObjection(subjectId, { capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-7' } } }),
  commandJson.restrictChannel(subjectId),
  commandJson.liftChannelRestriction(subjectId),
  commandJson.optOutSource(subjectId),
  commandJson.optInSource(subjectId),
  commandJson.endRelationship(subjectId),
  commandJson.eraseSubject(subjectId),
];
