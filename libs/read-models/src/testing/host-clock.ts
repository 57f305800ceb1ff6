import { jest } from '@jest/globals';
import type { Config } from '@jest/types';

/** Everything but `Date`: a host clock set apart while time goes on as usual. */
const ALL_BUT_DATE: Config.FakeableAPI[] = ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'];

/**
 * Sets this process's `Date` `ms` ahead of the real time (a host whose clock runs ahead of the
 * database's), its timers untouched; `jest.useRealTimers()` puts it back.
 */
export function setHostClockAhead(ms: number): void {
  jest.useFakeTimers({ now: Date.now() + ms, doNotFake: ALL_BUT_DATE });
}
