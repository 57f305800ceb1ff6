import { addDuration, earliest } from '../../time';
import type { Channel } from '../../vocabulary';
import type { GiveConsent } from '../commands';
import type { ConsentGiven } from '../events';
import { factOf, type LedgerContext, purposeFor, restsOnConsent } from '../facts';
import { type Ledger, restatesStanding } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { consentStatus, lapsesAt } from './consent-status';

export function giveConsent(command: GiveConsent, ledger: Ledger, context: LedgerContext): ConsentGiven[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const purpose = purposeFor(command, command.data.purpose, context);
  if (!restsOnConsent(purpose)) throw new LedgerRuleBroken('consent-not-applicable', command, purpose.id);
  if (purpose.excludedBrands.includes(command.brand)) throw new LedgerRuleBroken('not-applicable-to-brand', command, `${purpose.id} for ${command.brand}`);
  const noticeVersion = command.capture.noticeVersion;
  if (!noticeVersion) throw new LedgerRuleBroken('notice-version-required', command);

  // Events keep an empty list for a purpose that uses no channel, read as "any": never for a choice of none.
  if (command.data.channels?.length === 0) throw new LedgerRuleBroken('no-channel-chosen', command, purpose.id);
  const unused = (command.data.channels ?? []).filter((channel) => !purpose.channels.includes(channel));
  if (unused.length > 0) throw new LedgerRuleBroken('channel-not-used-by-purpose', command, `${purpose.id} does not use ${unused.join(', ')}`);
  const channels: readonly Channel[] = command.data.channels?.length ? [...new Set(command.data.channels)] : purpose.channels;

  const { occurredAt } = command.capture;
  // Consent is informed by the notice the person saw: after a change, not by the one it replaced.
  if (purpose.noticeChangedAt !== undefined && occurredAt >= purpose.noticeChangedAt && purpose.replacedNoticeVersions?.includes(noticeVersion)) {
    throw new LedgerRuleBroken('notice-outdated', command, `${purpose.id}: notice ${noticeVersion} was replaced at ${purpose.noticeChangedAt}`);
  }
  // Against the instant the channel stated: a consent that by its own account ended before it was given is no consent.
  if (command.data.validUntil !== undefined && command.data.validUntil <= (command.capture.statedAt ?? occurredAt)) {
    throw new LedgerRuleBroken('validity-ends-before-consent', command);
  }
  const expiresAt = earliest(command.data.validUntil, purpose.consentValidity && addDuration(occurredAt, purpose.consentValidity));

  // A repeat under the same notice at the standing grant's own instant changes nothing; a new
  // notice version is a new proof, a consent given again later is the person's latest word (and
  // renews a validity that would otherwise lapse sooner), and one given earlier is the proof for
  // the period before (see restatesStanding).
  // Both sides as they stand: a consent given before the purpose's notice changed ends with it,
  // this one as much as the standing grant.
  const endsAt = lapsesAt({ givenAt: occurredAt, expiresAt, noticeVersion }, purpose);
  // One under a notice the change replaced agrees to less than one standing under the notice that
  // replaced it: given at or after that one's instant, it adds nothing, and must not take its place.
  const replaced = (version: string) => purpose.replacedNoticeVersions?.includes(version) ?? false;
  const covers = (channel?: Channel) => {
    const status = consentStatus(ledger, purpose, occurredAt, channel);
    if (status.state !== 'active') return false;
    const agreesToLess = replaced(noticeVersion) && !replaced(status.grant.noticeVersion);
    const addsNothing = agreesToLess
      ? command.capture.occurredAt >= status.grant.stamp.occurredAt
      : status.grant.noticeVersion === noticeVersion && restatesStanding(command.capture, status.grant.stamp);
    if (!addsNothing) return false;
    if (status.grant.expiresAt === undefined) return endsAt === undefined || agreesToLess;
    return endsAt !== undefined && endsAt <= status.grant.expiresAt;
  };
  const alreadyInForce = channels.length > 0 ? channels.every((channel) => covers(channel)) : covers();
  if (alreadyInForce && command.data.personalData === undefined) return [];

  return [
    {
      type: 'ConsentGiven',
      data: {
        ...factOf(command),
        purpose: purpose.id,
        channels,
        noticeVersion,
        ...(command.capture.locale !== undefined && { locale: command.capture.locale }),
        ...(expiresAt !== undefined && { expiresAt }),
        ...(command.data.personalData !== undefined && { personalData: command.data.personalData }),
      },
    },
  ];
}
