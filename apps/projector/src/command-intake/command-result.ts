import type { CommandErrorBody, HandledCommand } from '@consent-ledger/ledger-commands';
import type { MessageOrigin } from './command-message';

/** Version of the `consent.command-results.v1` value. */
export const COMMAND_RESULT_SCHEMA_VERSION = 1;

export type InternalErrorBody = { readonly error: 'internal-error' | 'forbidden'; readonly message: string };

/**
 * The answer to one command message: the status and body `POST /v1/commands` would have given
 * (201/200 with the events and position, 400/409/422 with the error body, 503 when storage stayed
 * unavailable, 500 for a fault of ours), and 403 for commands the topic does not take.
 */
export interface CommandResult {
  readonly schemaVersion: typeof COMMAND_RESULT_SCHEMA_VERSION;
  readonly idempotencyKey: string;
  /**
   * The `client` header the command came with (`kafka` without one): keys are the client's own,
   * so two systems may use the same one and find both answers under it on the topic. Absent
   * when the header was unusable.
   */
  readonly client?: string;
  readonly status: 200 | 201 | 400 | 403 | 409 | 422 | 500 | 503;
  readonly body: HandledCommand | CommandErrorBody | InternalErrorBody;
  /** True when this repeats the answer to an earlier message with the same key. */
  readonly replayed: boolean;
  /** The command message answered. */
  readonly source: MessageOrigin;
}
