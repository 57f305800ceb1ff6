import { IsInstantText, Optional } from '@consent-ledger/ledger-commands';

/** `GET /v1/subjects/{id}/receipts[/{eventId}]?knownAt=` */
export class ReceiptsRequest {
  /** The receipt as the service issued it then: only what the log had received by that instant. */
  @Optional()
  @IsInstantText()
  knownAt?: string;
}
