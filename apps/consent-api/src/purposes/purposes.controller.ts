import { Controller, Get, Inject, Module } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Catalogue, CatalogueDefinition } from '@consent-ledger/domain';
import { CATALOGUE } from '../ledger/catalogue-file';

@ApiTags('catalogue')
@ApiBearerAuth()
@Controller('v1/purposes')
export class PurposesController {
  constructor(@Inject(CATALOGUE) private readonly catalogue: Catalogue) {}

  /** Any valid key: the catalogue is the privacy statement as data, nothing about any person. */
  @Get()
  @ApiOperation({ summary: 'The purpose catalogue: every purpose with its legal basis, audience, channels, sources and groups' })
  purposes(): CatalogueDefinition {
    return this.catalogue.definition;
  }
}

@Module({ controllers: [PurposesController] })
export class PurposesModule {}
