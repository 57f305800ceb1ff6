/** How often a message handled for long tells the group coordinator its consumer is alive: the consumers' `heartbeatInterval`. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * Runs `handling` while telling the group coordinator every `HEARTBEAT_INTERVAL_MS` that the
 * consumer is alive. kafkajs heartbeats only between messages, so a message handled for longer
 * than the session timeout got its consumer expelled from the group: every partition of the
 * group stopped for a rebalance, and the message was delivered again, to this instance or
 * another, while its first handling went on. A command or decision waits that long while
 * PostgreSQL does not answer: DATABASE_ANSWER_TIMEOUT_SECONDS (10 s by default, up to 600) for a
 * statement, a command several attempts (found in review, with the defaults: the first attempt
 * took 10.5 s against a session of 10 s).
 *
 * A heartbeat refused because the group is rebalancing (another instance joining or leaving) is
 * no failure of the message: the handling goes on, and the consumer rejoins once it is done.
 */
export async function heartbeatingWhile<T>(heartbeat: () => Promise<void>, handling: () => Promise<T>): Promise<T> {
  const beating = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_INTERVAL_MS);
  try {
    return await handling();
  } finally {
    clearInterval(beating);
  }
}
