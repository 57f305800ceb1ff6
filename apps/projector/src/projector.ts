import { type INestMicroservice, Logger, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomStrategy, KafkaOptions } from '@nestjs/microservices';
import { Partitioners } from 'kafkajs';
import { EMPTY_FETCH_WAIT_MS } from './kafka/kafka-client';
import { HEARTBEAT_INTERVAL_MS } from './kafka/heartbeating';
import type { ProjectorConfig } from './config';
import { DecisionServer } from './decision-requests/decision-server';
import { ProjectorModule } from './projector.module';
import { ProjectorResources } from './projector-resources';

export interface ProjectorOptions {
  readonly logger?: LoggerService | false;
}

/**
 * Builds the projector from a configuration, ready to `listen`: storage and Kafka opened, topics
 * created, the `consent.decision` server configured. Closing the app stops its roles and closes
 * everything it opened.
 */
export async function createProjector(config: ProjectorConfig, options: ProjectorOptions = {}): Promise<INestMicroservice> {
  const resources = await ProjectorResources.open(config);
  try {
    const app = await NestFactory.createMicroservice<CustomStrategy>(ProjectorModule.running(resources), {
      strategy: new DecisionServer(decisionServerOptions(config), resources.topics.decisionReplies),
      logger: options.logger ?? new Logger(),
      abortOnError: false,
    });
    return app;
  } catch (error) {
    await resources.close();
    throw error;
  }
}

/**
 * The decision server: every instance in one consumer group (requests are spread over the topic's
 * partitions), a client id of its own per instance, replies only on the deployment's reply topic
 * (DecisionServer), on the partition the client named.
 */
function decisionServerOptions(config: ProjectorConfig): Required<KafkaOptions>['options'] {
  return {
    client: { clientId: `consent-projector-${config.instanceId}`, brokers: [...config.kafkaBrokers] },
    consumer: {
      groupId: `${config.kafkaTopicPrefix}consent-projector-decisions`,
      allowAutoTopicCreation: false,
      // A dead instance's partitions (and so its share of questions) move to the others after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: EMPTY_FETCH_WAIT_MS,
    },
    subscribe: { fromBeginning: false },
    // Answering a question reads one subject's stream: several partitions at once keep one slow read from queueing the rest.
    run: { partitionsConsumedConcurrently: 3 },
    producer: { allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner },
    // The question reaches the handler as sent: NestJS would parse it, keeping the last of a field
    // sent twice, and hand over a non-JSON value as text (DecisionAnswers reads it instead).
    parser: { keepBinary: true },
    // NestJS appends this to the client id and the group id: the group is `<prefix>consent-projector-decisions-server`.
    // Written out because it names a running group; a new name would start a new group at the latest offset.
    postfixId: '-server',
  };
}
