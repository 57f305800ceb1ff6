/** The longest delay a Node timer takes; a longer one fires after 1 ms instead (TimeoutOverflowWarning). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `task` every `everyMs`, also for periods longer than a timer takes (a monthly or yearly
 * schedule): the wait is cut into timers Node accepts. Found in review: `setInterval` with 30 days
 * ran the proof-retention job every millisecond, each run appending to the log. The timers do not
 * keep the process alive. Returns what stops it.
 */
export function repeatEvery(everyMs: number, task: () => void, now: () => number = Date.now): () => void {
  let due = now() + everyMs;
  let timer: NodeJS.Timeout | undefined;
  const wait = () => {
    timer = setTimeout(
      () => {
        if (now() >= due) {
          due = now() + everyMs;
          task();
        }
        wait();
      },
      Math.min(Math.max(due - now(), 0), LONGEST_TIMER_MS),
    );
    timer.unref();
  };
  wait();
  return () => clearTimeout(timer);
}
