import { repeatEvery } from './repeat-every';

describe('repeating a task', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const HOUR = 3_600_000;

  it('runs it once per period, also for a period longer than a timer takes', () => {
    const task = jest.fn();
    const stop = repeatEvery(720 * HOUR, task);
    jest.advanceTimersByTime(1_000);
    expect(task).not.toHaveBeenCalled();
    jest.advanceTimersByTime(720 * HOUR - 1_000);
    expect(task).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(720 * HOUR);
    expect(task).toHaveBeenCalledTimes(2);
    stop();
  });

  it('runs it no more once stopped', () => {
    const task = jest.fn();
    const stop = repeatEvery(6 * HOUR, task);
    jest.advanceTimersByTime(6 * HOUR);
    stop();
    jest.advanceTimersByTime(24 * HOUR);
    expect(task).toHaveBeenCalledTimes(1);
  });
});
