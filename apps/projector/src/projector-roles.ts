import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { consentFeedOf, followCatalogueRules, followLog, leadRole, type Projections, type RoleLeadership, startProjections } from '@consent-ledger/read-models';
import { nestLogOf } from '@consent-ledger/deployment';
import { commandIntakeGroupId, CommandTopicIntake } from './command-intake/command-topic-intake';
import { audienceKeys } from './consent-feed/audience-message';
import { ConsentFeedPublisher } from './consent-feed/consent-feed.publisher';
import { ProjectorResources } from './projector-resources';

/**
 * What a projector instance does besides answering decisions. Keeping the read models and
 * publishing to Kafka each follow the one ordered log, so each is done by one instance at a time,
 * chosen by lease (another instance takes over within the lease time); command intake is shared
 * by every instance through a Kafka consumer group. The feed goes to the instance that keeps the
 * read models: it then publishes what they just committed without reading it back or evaluating
 * every purpose again, which measured several times cheaper than a feed of its own (ADR 0005).
 */
@Injectable()
export class ProjectorRoles implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projector');
  private readModelsRole?: RoleLeadership;
  private feedRole?: RoleLeadership;
  private projections?: Projections;
  private readonly feed: ConsentFeedPublisher;
  private readonly commands: CommandTopicIntake;
  /** One feed per topic prefix: deployments sharing a database but not topics each publish their own. */
  private readonly feedRoleName: string;
  /** Since when no instance has held the feed role, as of the last heartbeat. */
  private feedUnledSince?: number;
  /**
   * Whether the instance keeping the read models could publish this feed (it runs the same
   * topics), as of the last heartbeat: only then is the feed handed over to it.
   */
  private keeperCanPublish = false;
  private heartbeat?: NodeJS.Timeout;
  private commandsStarted?: Promise<void>;
  private readonly log = nestLogOf(this.logger);

  constructor(@Inject(ProjectorResources) private readonly resources: ProjectorResources) {
    const { config, topics } = resources;
    const log = this.log;
    const feedRoleName = consentFeedOf(config.kafkaTopicPrefix);
    this.feed = new ConsentFeedPublisher({
      store: resources.store,
      readModels: resources.readModels,
      catalogue: resources.catalogue,
      producer: resources.producer,
      topics,
      keys: audienceKeys(resources.adsAndDataKey),
      vault: resources.vault,
      fence: { role: feedRoleName, holder: config.instanceId },
      // A third of the lease: the holder renews every third, so only a process that was paused
      // (or cannot reach the database) falls below it.
      mayPublish: () => this.feedRole?.holdsLeaseFor(Math.floor(config.leaseTtlMs / 3)) ?? false,
      checkpointName: feedRoleName,
      compression: config.kafkaCompression,
      log,
    });
    this.feedRoleName = feedRoleName;
    this.commands = new CommandTopicIntake({
      kafka: resources.kafka,
      producer: resources.producer,
      intake: resources.intake,
      commandsTopic: topics.commands,
      resultsTopic: topics.commandResults,
      groupId: commandIntakeGroupId(config.kafkaTopicPrefix),
      deleteAnswered: config.deleteAnsweredCommands,
      log,
    });
  }

  /** True while this instance keeps the read models (for tests and health). */
  get leadsReadModels(): boolean {
    return this.readModelsRole?.isLeader ?? false;
  }

  get leadsFeed(): boolean {
    return this.feedRole?.isLeader ?? false;
  }

  get feedCheckpoint(): bigint {
    return this.feed.checkpoint;
  }

  /**
   * Whether the feed is led (a safety net for an instance that keeps the read models but cannot
   * take the feed), and who could take it: each instance says, with a lease of its own, that it
   * can publish this feed.
   */
  private async beat(): Promise<void> {
    const { storage } = this.resources.readModels;
    const { instanceId, leaseTtlMs } = this.resources.config;
    try {
      await storage.tryLease(candidacyOf(this.feedRoleName, instanceId), instanceId, leaseTtlMs);
      const feedLed = (await storage.leaseHolder(this.feedRoleName)) !== undefined;
      this.feedUnledSince = feedLed ? undefined : (this.feedUnledSince ?? Date.now());
      const keeper = await storage.leaseHolder('read-models');
      this.keeperCanPublish = keeper !== undefined && keeper !== instanceId && (await storage.leaseHolder(candidacyOf(this.feedRoleName, keeper))) !== undefined;
    } catch (error) {
      this.log.error('the heartbeat failed', error);
    }
  }

  /**
   * The instance that keeps the read models publishes; another one hands the feed over to it, if
   * it runs the same topics. Any instance takes the feed when it has gone unled for two lease
   * times, so it never stays unled, and keeps it while no keeper of the read models can take it:
   * deployments with topics of their own share one keeper, which publishes only its own feed.
   */
  private mayLeadFeed(): boolean {
    if (this.leadsReadModels) return true;
    if (this.leadsFeed) return !this.keeperCanPublish;
    return this.feedUnledSince !== undefined && Date.now() - this.feedUnledSince > 2 * this.resources.config.leaseTtlMs;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { config, readModels, store } = this.resources;
    const lease = { storage: readModels.storage, holder: config.instanceId, ttlMs: config.leaseTtlMs, log: this.log };
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), Math.max(100, Math.floor(config.leaseTtlMs / 3)));
    this.readModelsRole = leadRole({
      ...lease,
      role: 'read-models',
      onElected: async () => {
        this.logger.log(`${config.instanceId} keeps the read models`);
        await followLog(readModels, store, this.logger);
        await followCatalogueRules(readModels, this.logger);
        this.projections = startProjections({
          readModels,
          store,
          sweepEveryMs: config.sweepEveryMs,
          log: this.log,
          onCommitted: (changes, batch) => this.feed.readModelsCommitted(changes, batch),
        });
      },
      onDeposed: async () => {
        this.logger.warn(`${config.instanceId} no longer keeps the read models`);
        await this.projections?.stop();
        this.projections = undefined;
      },
    });
    this.feedRole = leadRole({
      ...lease,
      role: this.feedRoleName,
      shouldLead: () => this.mayLeadFeed(),
      onElected: () => {
        this.logger.log(`${config.instanceId} publishes the consent feed`);
        this.feed.start(() => this.feedRole?.stepDown());
      },
      onDeposed: async () => {
        this.logger.warn(`${config.instanceId} no longer publishes the consent feed`);
        await this.feed.stop();
      },
    });
    await Promise.all([this.readModelsRole.firstAttempt, this.feedRole.firstAttempt]);
    // Joining the consumer group can wait for a dead member's session to time out: the roles above
    // must not wait for that, so the intake joins in the background.
    this.commandsStarted = this.commands.start().catch((error: unknown) => this.log.error('command intake could not start', error));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.commandsStarted;
    await Promise.allSettled([this.commands.stop(), this.feedRole?.stop(), this.readModelsRole?.stop()]);
    const { config, readModels } = this.resources;
    await readModels.storage.releaseLease(candidacyOf(this.feedRoleName, config.instanceId), config.instanceId).catch(() => undefined);
    await this.resources.close();
  }
}

/** The lease an instance renews to say it can publish `feedRole`. */
const candidacyOf = (feedRole: string, instanceId: string): string => `candidate:${feedRole}:${instanceId}`;
