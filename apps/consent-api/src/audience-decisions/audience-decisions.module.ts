import { Module } from '@nestjs/common';
import { AudienceDecisionsController } from './audience-decisions.controller';
import { AudienceDecisionsHandler } from './audience-decisions.query';

@Module({ controllers: [AudienceDecisionsController], providers: [AudienceDecisionsHandler] })
export class AudienceDecisionsModule {}
