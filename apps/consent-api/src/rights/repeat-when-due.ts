/** The longest delay a Node timer takes; a longer one fires after 1 ms instead (TimeoutOverflowWarning). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `task` at `firstAt`, then again at each instant its promise resolves to (milliseconds
 * since the epoch, as `now` counts them): the task itself says when it is next due, so a schedule
 * kept by several processes can follow the last run any of them made. Waits longer than a timer
 * takes (a monthly or yearly schedule) are cut into timers Node accepts. Found in review:
 * `setInterval` with 30 days ran the proof-retention job every millisecond, each run appending
 * to the log. A timer firing early (Node's may, by a millisecond) waits for the rest. The timers
 * do not keep the process alive. `task` must not reject. Returns what stops it.
 */
export function repeatWhenDue(firstAt: number, task: () => Promise<number>, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  let isStopped = false;
  const waitUntil = (due: number): void => {
    if (isStopped) return;
    timer = setTimeout(
      () => {
        if (now() < due) return waitUntil(due);
        void task().then(waitUntil);
      },
      Math.min(Math.max(due - now(), 0), LONGEST_TIMER_MS),
    );
    timer.unref();
  };
  waitUntil(firstAt);
  return () => {
    isStopped = true;
    clearTimeout(timer);
  };
}
