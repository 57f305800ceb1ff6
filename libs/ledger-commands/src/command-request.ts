import {
  ACTOR_KINDS,
  type ActorKind,
  BRANDS,
  type Brand,
  LEDGER_COMMAND_TYPES,
  type LedgerCommand,
  type LedgerCommandType,
  REPRESENTATIVE_ROLES,
  type RepresentativeRole,
  type Sealed,
  TOUCHPOINTS,
  type Touchpoint,
} from '@consent-ledger/domain';
import { IsInstantText, IsLocale, IsNestedObject, IsOneOf, IsPseudonymousId, IsText, Optional } from './request-fields';

/** Who expressed or entered the choice; `id` is pseudonymous (an employee number, a job name). */
export class ActorRequest {
  @IsOneOf(ACTOR_KINDS)
  kind!: ActorKind;

  @Optional()
  @IsPseudonymousId()
  id?: string;

  @Optional()
  @IsOneOf(REPRESENTATIVE_ROLES)
  role?: RepresentativeRole;
}

/** The channel's account of how the choice was made: the evidence every event keeps. */
export class CaptureRequest {
  @IsOneOf(TOUCHPOINTS)
  touchpoint!: Touchpoint;

  @IsNestedObject(() => ActorRequest)
  actor!: ActorRequest;

  /** When the person expressed the choice; defaults to when the ledger receives it. */
  @Optional()
  @IsInstantText()
  occurredAt?: string;

  @Optional()
  @IsText({ maxLength: 128, inClear: true })
  noticeVersion?: string;

  @Optional()
  @IsLocale()
  locale?: string;

  /** Reference to outside evidence (a call recording id): sealed before it reaches the ledger. */
  @Optional()
  @IsText({ maxLength: 512 })
  evidenceRef?: string;
}

/** What every command request carries besides its own fields. */
export abstract class CommandRequest {
  @IsOneOf(LEDGER_COMMAND_TYPES)
  type!: LedgerCommandType;

  // An erasure must reach a subject recorded under a national register number before such ids were refused.
  @IsPseudonymousId({ reachableWhen: (request) => (request as CommandRequest).type === 'EraseSubject' })
  subjectId!: string;

  /** Defaults to `proximus`. */
  @Optional()
  @IsOneOf(BRANDS)
  brand?: Brand;

  @IsNestedObject(() => CaptureRequest)
  capture!: CaptureRequest;
}

/** Where a request names a purpose, and whether a purpose group (e.g. `direct-marketing`) is accepted there. */
export type PurposeReference = 'purpose' | 'purpose-or-group';

/**
 * How one command type travels: its request class, which field names a catalogue purpose, and how
 * the validated request becomes the domain command's data (personal data sealed on the way).
 */
export interface CommandShape<Command extends LedgerCommand = LedgerCommand, Request extends CommandRequest = CommandRequest> {
  readonly request: new () => Request;
  readonly purpose?: { readonly field: 'purpose'; readonly accepts: PurposeReference; readonly optional: boolean };
  /** The command takes effect when recorded, whatever instant the channel states (kept as `statedAt`). */
  readonly datedOnArrival?: true;
  dataOf(request: Request, seal: (plaintext: string) => Promise<Sealed>): Promise<Command['data']>;
}
