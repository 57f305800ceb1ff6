import { type DynamicModule, Module } from '@nestjs/common';
import { type Instant } from '@consent-ledger/domain';
import { DecisionAnswers } from './decision-requests/decision-answers';
import { decisionRequestsController } from './decision-requests/decision-requests.controller';
import { ProjectorResources } from './projector-resources';
import { ProjectorRoles } from './projector-roles';

@Module({})
export class ProjectorModule {
  /** The module for resources already opened from the configuration. */
  static running(resources: ProjectorResources, now: () => Instant = () => new Date().toISOString() as Instant): DynamicModule {
    return {
      module: ProjectorModule,
      controllers: [decisionRequestsController(resources.topics.decisionRequests)],
      providers: [
        { provide: ProjectorResources, useValue: resources },
        { provide: DecisionAnswers, useValue: new DecisionAnswers(resources.streams, resources.catalogue, now) },
        ProjectorRoles,
      ],
    };
  }
}
