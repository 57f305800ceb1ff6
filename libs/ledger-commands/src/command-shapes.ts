import type { LedgerCommand, LedgerCommandType } from '@consent-ledger/domain';
import type { CommandRequest, CommandShape } from './command-request';
import { END_RELATIONSHIP } from './end-relationship/end-relationship.request';
import { ERASE_SUBJECT } from './erase-subject/erase-subject.request';
import { GIVE_CONSENT } from './give-consent/give-consent.request';
import { LIFT_CHANNEL_RESTRICTION } from './lift-channel-restriction/lift-channel-restriction.request';
import { OBJECT_TO_PROCESSING } from './object-to-processing/object-to-processing.request';
import { OPT_IN_SOURCE } from './opt-in-source/opt-in-source.request';
import { OPT_OUT_SOURCE } from './opt-out-source/opt-out-source.request';
import { RESTRICT_CHANNEL } from './restrict-channel/restrict-channel.request';
import { REVIEW_OBJECTION } from './review-objection/review-objection.request';
import { START_RELATIONSHIP } from './start-relationship/start-relationship.request';
import { WITHDRAW_CONSENT } from './withdraw-consent/withdraw-consent.request';
import { WITHDRAW_OBJECTION } from './withdraw-objection/withdraw-objection.request';

type ShapeOf<Type extends LedgerCommandType> = CommandShape<Extract<LedgerCommand, { type: Type }>, any>;

/** Every command type the ledger accepts, and how its request looks. Adding a command type without a shape fails to compile. */
export const COMMAND_SHAPES: { readonly [Type in LedgerCommandType]: ShapeOf<Type> } = {
  GiveConsent: GIVE_CONSENT,
  WithdrawConsent: WITHDRAW_CONSENT,
  Object: OBJECT_TO_PROCESSING,
  WithdrawObjection: WITHDRAW_OBJECTION,
  ReviewObjection: REVIEW_OBJECTION,
  RestrictChannel: RESTRICT_CHANNEL,
  LiftChannelRestriction: LIFT_CHANNEL_RESTRICTION,
  OptOutSource: OPT_OUT_SOURCE,
  OptInSource: OPT_IN_SOURCE,
  StartRelationship: START_RELATIONSHIP,
  EndRelationship: END_RELATIONSHIP,
  EraseSubject: ERASE_SUBJECT,
};

export const shapeOf = (type: LedgerCommandType): CommandShape<LedgerCommand, CommandRequest> =>
  COMMAND_SHAPES[type] as unknown as CommandShape<LedgerCommand, CommandRequest>;
