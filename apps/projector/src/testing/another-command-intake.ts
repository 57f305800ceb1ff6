import { commandIntakeGroupId, CommandTopicIntake, type CommandTopicIntakeOptions } from '../command-intake/command-topic-intake';
import type { ProjectorResources } from '../projector-resources';

/** A second instance's command intake beside a projector's, in its consumer group: the topic's partitions are spread over both. */
export function anotherCommandIntake(
  resources: ProjectorResources,
  topicPrefix: string,
  options: Pick<CommandTopicIntakeOptions, 'deleteAnswered' | 'log'>,
): CommandTopicIntake {
  return new CommandTopicIntake({
    kafka: resources.kafka,
    producer: resources.producer,
    intake: resources.intake,
    commandsTopic: resources.topics.commands,
    resultsTopic: resources.topics.commandResults,
    groupId: commandIntakeGroupId(topicPrefix),
    ...options,
  });
}
