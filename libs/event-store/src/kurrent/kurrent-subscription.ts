import { excludeSystemEvents, START as FROM_START, type AllStreamSubscription, type KurrentDBClient } from '@kurrent/kurrentdb-client';
import { START, type GlobalPosition, type StoredEvent, type SubscribeToAllOptions, type Subscription } from '../event-store.port';
import { toStoredEvent } from './kurrent-records';

export interface KurrentFollowSettings {
  /** Whether an event belongs to the ledger's global log (not a removal record, not a removed stream). */
  isInLog(event: StoredEvent): boolean;
  /** Runs for each event before `isInLog`, so removal records seen live take effect at once. */
  observe(event: StoredEvent): void;
  readonly resubscribeDelayMs: number;
}

class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/**
 * `subscribeToAll` from the subscriber's checkpoint, resubscribing from the last delivered
 * position whenever the server drops the subscription (KurrentDB never does this for us).
 * Events are handed over one at a time; `onCaughtUp` fires once every event the server had sent
 * before its "caught up" message has been handled, and after each live event that empties the buffer.
 */
export function followAll(client: KurrentDBClient, options: SubscribeToAllOptions, settings: KurrentFollowSettings): Subscription {
  let isClosed = false;
  let current: AllStreamSubscription | undefined;
  let checkpoint: GlobalPosition = options.after;
  let wakeFromPause: () => void = () => undefined;

  const consume = async (subscription: AllStreamSubscription): Promise<void> => {
    let received = 0;
    let handled = 0;
    let caughtUpAfter: number | undefined;
    let isLive = false;
    const reportIfCaughtUp = () => {
      if (isClosed || handled !== received || caughtUpAfter === undefined || handled < caughtUpAfter) return;
      if (!isLive && subscription.readableLength > 0) return;
      options.onCaughtUp?.(checkpoint);
    };
    subscription.on('caughtUp', () => {
      caughtUpAfter = received + subscription.readableLength;
      isLive = true;
      reportIfCaughtUp();
    });
    subscription.on('fellBehind', () => {
      isLive = false;
      caughtUpAfter = undefined;
    });

    for await (const resolved of subscription) {
      received += 1;
      const event = toStoredEvent(resolved);
      if (event && event.position > checkpoint) {
        settings.observe(event);
        if (settings.isInLog(event)) {
          try {
            await options.onEvent(event);
          } catch (error) {
            throw new HandlerFailure(error);
          }
        }
        checkpoint = event.position;
      }
      handled += 1;
      if (isClosed) return;
      if (subscription.readableLength === 0) reportIfCaughtUp();
    }
  };

  const run = async (): Promise<void> => {
    while (!isClosed) {
      current = client.subscribeToAll({
        fromPosition: checkpoint === START ? FROM_START : { commit: checkpoint, prepare: checkpoint },
        filter: excludeSystemEvents(),
      });
      try {
        await consume(current);
      } catch (error) {
        if (error instanceof HandlerFailure) throw error.error;
      }
      if (isClosed) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settings.resubscribeDelayMs);
        wakeFromPause = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };

  const done = run();
  done.catch(() => undefined);

  return {
    done,
    async close() {
      isClosed = true;
      wakeFromPause();
      await current?.unsubscribe().catch(() => undefined);
      await done.catch(() => undefined);
    },
  };
}
