import { Controller, Inject, type Type } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DecisionAnswers, type DecisionReply } from './decision-answers';

/**
 * `consent.decision` request-reply on the NestJS Kafka transport. The topic name carries the
 * deployment's prefix, known only once the configuration is read, so the controller class is made
 * for it (a decorator argument must be fixed when the class is defined).
 */
export function decisionRequestsController(topic: string): Type<unknown> {
  @Controller()
  class DecisionRequestsController {
    constructor(@Inject(DecisionAnswers) private readonly answers: DecisionAnswers) {}

    @MessagePattern(topic)
    answer(@Payload() question: Buffer | null): Promise<DecisionReply> {
      return this.answers.answer(question);
    }
  }
  return DecisionRequestsController;
}
