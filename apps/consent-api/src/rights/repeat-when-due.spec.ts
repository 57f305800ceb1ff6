import { repeatWhenDue } from './repeat-when-due';

describe('repeating a task when it says it is next due', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const HOUR = 3_600_000;
  /** A task that is next due `everyMs` after each call, and counts its calls. */
  const every = (everyMs: number) => jest.fn(async () => Date.now() + everyMs);

  it('runs it first when asked, then whenever it says, also after a wait longer than a timer takes', async () => {
    const task = every(720 * HOUR);
    const stop = repeatWhenDue(Date.now() + 60_000, task);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(task).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(task).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(720 * HOUR - 1);
    expect(task).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(task).toHaveBeenCalledTimes(2);
    stop();
  });

  it('waits as long as the task says, which may be less or more than the time since the last call', async () => {
    const dueIn = [2 * HOUR, 30 * HOUR];
    const task = jest.fn(async () => Date.now() + (dueIn.shift() ?? HOUR));
    const stop = repeatWhenDue(Date.now(), task);
    await jest.advanceTimersByTimeAsync(0);
    expect(task).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(2 * HOUR);
    expect(task).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(30 * HOUR - 1);
    expect(task).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(task).toHaveBeenCalledTimes(3);
    stop();
  });

  it('runs it no more once stopped, also when stopped while the task is under way', async () => {
    let finish!: (next: number) => void;
    const task = jest.fn(() => new Promise<number>((resolve) => (finish = resolve)));
    const stop = repeatWhenDue(Date.now() + HOUR, task);
    await jest.advanceTimersByTimeAsync(HOUR);
    expect(task).toHaveBeenCalledTimes(1);
    stop();
    finish(Date.now() + HOUR);
    await jest.advanceTimersByTimeAsync(24 * HOUR);
    expect(task).toHaveBeenCalledTimes(1);
  });
});
