import { Controller, Get, Header, Inject, Module } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Catalogue } from '@consent-ledger/domain';
import { CATALOGUE } from '../ledger/catalogue-file';
import { NoQueryParameters } from '../http/request-invalid';

@ApiTags('catalogue')
@ApiBearerAuth()
@Controller('v1/purposes')
export class PurposesController {
  /** Serialised once: the catalogue does not change while the service runs, and it is large. */
  private readonly json: string;

  constructor(@Inject(CATALOGUE) catalogue: Catalogue) {
    this.json = JSON.stringify(catalogue.definition);
  }

  /** Any valid key: the catalogue is the privacy statement as data, nothing about any person. */
  @Get()
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOperation({ summary: 'The purpose catalogue: every purpose with its legal basis, audience, channels, sources and groups' })
  purposes(@NoQueryParameters() _none: void): string {
    return this.json;
  }
}

@Module({ controllers: [PurposesController] })
export class PurposesModule {}
