import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeys } from './api-keys';

/** Every route needs an API key unless marked `@Public()`. */
@Global()
@Module({})
export class ApiKeysModule {
  static forRoot(keys: ApiKeys): DynamicModule {
    return {
      module: ApiKeysModule,
      providers: [{ provide: ApiKeys, useValue: keys }, { provide: APP_GUARD, useClass: ApiKeyGuard }],
      exports: [ApiKeys],
    };
  }
}
