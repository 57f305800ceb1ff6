import { CHANNELS, type Channel, type GiveConsent, type Instant, toInstant } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsEmailAddress, IsInstantText, IsListOf, IsNestedObject, IsPhoneNumber, IsText, Optional } from '../request-fields';

/** Contact details collected with a consent, e.g. from a prospect met at an event. Sealed, never stored in clear. */
export class ContactRequest {
  @Optional()
  @IsText({ maxLength: 200 })
  name?: string;

  @Optional()
  @IsEmailAddress()
  email?: string;

  @Optional()
  @IsPhoneNumber()
  phone?: string;

  @Optional()
  @IsText({ maxLength: 500, multiline: true })
  postalAddress?: string;
}

export class GiveConsentRequest extends CommandRequest {
  @IsText({ maxLength: 100 })
  purpose!: string;

  /** Omitted: every channel the purpose uses. */
  @Optional()
  @IsListOf(CHANNELS)
  channels?: Channel[];

  /** An end date the person chose, earlier than the catalogue's validity. */
  @Optional()
  @IsInstantText()
  validUntil?: string;

  @Optional()
  @IsNestedObject(() => ContactRequest, { notEmpty: true })
  contact?: ContactRequest;
}

export const GIVE_CONSENT: CommandShape<GiveConsent, GiveConsentRequest> = {
  request: GiveConsentRequest,
  purpose: { field: 'purpose', accepts: 'purpose', optional: false },
  async dataOf({ purpose, channels, validUntil, contact }, seal) {
    const details = contact && Object.fromEntries(Object.entries(contact).filter(([, value]) => value !== undefined));
    return {
      purpose,
      ...(channels !== undefined && { channels }),
      ...(validUntil !== undefined && { validUntil: toInstant(validUntil) as Instant }),
      ...(details && Object.keys(details).length > 0 && { personalData: await seal(JSON.stringify(details)) }),
    };
  },
};
