import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type CheckedCommandRequest, CommandIntake, type CommandOutcome, type CommandSubmission } from '@consent-ledger/ledger-commands';

/** Transport envelope: a checked command request and who submitted it under which key. */
export class RecordChoice extends Command<CommandOutcome> {
  constructor(
    readonly request: CheckedCommandRequest,
    readonly submission: CommandSubmission,
  ) {
    super();
  }
}

@CommandHandler(RecordChoice)
export class RecordChoiceHandler implements ICommandHandler<RecordChoice> {
  constructor(private readonly intake: CommandIntake) {}

  execute({ request, submission }: RecordChoice): Promise<CommandOutcome> {
    return this.intake.execute(request, submission);
  }
}
