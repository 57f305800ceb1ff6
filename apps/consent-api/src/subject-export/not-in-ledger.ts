import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** Asked for something the ledger does not hold, e.g. a receipt for an event of another subject. */
export class NotInLedger extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotInLedger';
  }
}

@Catch(NotInLedger)
export class NotInLedgerFilter implements ExceptionFilter<NotInLedger> {
  catch(error: NotInLedger, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().status(404).send({ error: 'not-found', message: error.message });
  }
}
