import { Module } from '@nestjs/common';
import { RecordChoiceController } from './record-choice.controller';
import { RecordChoiceHandler } from './record-choice.command';

@Module({ controllers: [RecordChoiceController], providers: [RecordChoiceHandler] })
export class RecordChoiceModule {}
