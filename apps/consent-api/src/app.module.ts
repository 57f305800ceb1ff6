import { type DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ApiKeysModule } from './api-keys/api-keys.module';
import type { ApiKeys } from './api-keys/api-keys';
import { AudienceDecisionsModule } from './audience-decisions/audience-decisions.module';
import { AuditModule } from './audit/timeline.controller';
import { HealthModule } from './health/health.controller';
import { LedgerModule, type LedgerParts } from './ledger/ledger.module';
import { PurposesModule } from './purposes/purposes.controller';
import { ReceiptsModule } from './receipts/receipts.controller';
import { RecordChoiceModule } from './record-choice/record-choice.module';
import { RightsModule } from './rights/rights.module';
import { SubjectExportModule } from './subject-export/subject-export.controller';
import { SubjectDecisionModule } from './subject-decision/subject-decision.module';
import { SubjectHistoryModule } from './subject-history/subject-history.module';
import { SubjectPreferencesModule } from './subject-preferences/subject-preferences.module';

/** The API's capabilities, one module each. */
@Module({
  imports: [
    RecordChoiceModule,
    SubjectDecisionModule,
    SubjectPreferencesModule,
    SubjectHistoryModule,
    AudienceDecisionsModule,
    PurposesModule,
    HealthModule,
    ReceiptsModule,
    SubjectExportModule,
    AuditModule,
    RightsModule,
  ],
})
export class AppModule {
  /** The capabilities above, on the storage, catalogue, clock and keys opened from the configuration. */
  static running(parts: LedgerParts & { readonly apiKeys: ApiKeys }): DynamicModule {
    return { module: AppModule, imports: [CqrsModule.forRoot(), LedgerModule.forRoot(parts), ApiKeysModule.forRoot(parts.apiKeys)] };
  }
}
