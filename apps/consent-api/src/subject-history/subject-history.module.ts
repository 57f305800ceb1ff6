import { Module } from '@nestjs/common';
import { SubjectHistoryController } from './subject-history.controller';
import { SubjectHistoryHandler } from './subject-history.query';

@Module({ controllers: [SubjectHistoryController], providers: [SubjectHistoryHandler] })
export class SubjectHistoryModule {}
