import { Module } from '@nestjs/common';
import { SubjectDecisionController } from './subject-decision.controller';
import { SubjectDecisionHandler } from './subject-decision.query';

@Module({ controllers: [SubjectDecisionController], providers: [SubjectDecisionHandler] })
export class SubjectDecisionModule {}
