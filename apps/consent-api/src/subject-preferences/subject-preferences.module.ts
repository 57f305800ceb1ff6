import { Module } from '@nestjs/common';
import { SubjectPreferencesController } from './subject-preferences.controller';
import { SubjectPreferencesHandler } from './subject-preferences.query';

@Module({ controllers: [SubjectPreferencesController], providers: [SubjectPreferencesHandler] })
export class SubjectPreferencesModule {}
