import type { Duplex } from 'node:stream';
import { Client, type ClientBase, type QueryConfig } from 'pg';

/**
 * A statement given up by `watchAnswers`: PostgreSQL sent nothing of its answer, and could not
 * say, asked on a connection of its own, that it was still working on it.
 */
export class AnswerNotHeard extends Error {
  constructor() {
    super('PostgreSQL did not answer the statement, nor say it was still working on it');
    this.name = 'AnswerNotHeard';
  }
}

export interface AnswerWatch {
  /** The watched connections' database, which a probe asks on a connection of its own. */
  readonly url: string;
  /** How long after PostgreSQL falls silent a statement is given up, in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * Gives up the statements on `client` that PostgreSQL has stopped answering (a network cut that
 * leaves the connection open, a hung server, an answer lost), however long their work rightly
 * takes: for a process with nobody to stop it, the auditor CLI run by hand or from cron, which
 * waited for ever (found in review).
 *
 * `query_timeout`, the requests' answer timeout (answer-timeout.ts), bounds a statement's whole
 * run, and maintenance may rightly run longer: a VACUUM FULL of the key table (seconds per
 * million keys), a wait for another proof-retention run's lock, the heads of every stream in
 * verify. So a statement is given up only once nothing of its answer has come for half the
 * timeout and PostgreSQL, asked on a connection of its own within the other half, cannot say it
 * is running the statement (`pg_stat_activity` shows the session active, and not waiting for us
 * to take an answer that the network lost). A statement given up fails with `AnswerNotHeard`,
 * and its connection is closed, never used again. Statements with a `query_timeout` of their own
 * are left to it.
 */
export function watchAnswers(client: ClientBase, watch: AnswerWatch): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]): unknown => {
    if (hasLimitOfItsOwn(args[0])) return query(...args);
    const statement = new WatchedStatement(client as WatchedClient, watch);
    try {
      const callbackAt = args.findIndex((arg) => typeof arg === 'function');
      if (callbackAt >= 0) {
        // The pool's own queries report through a callback.
        const callback = args[callbackAt] as (error: Error | undefined, result?: unknown) => void;
        statement.onGivenUp = (error) => callback(error);
        args[callbackAt] = (error: Error | undefined, result: unknown) => statement.settle() && callback(error, result);
        return query(...args);
      }
      return new Promise((resolve, reject) => {
        statement.onGivenUp = reject;
        (query(...args) as Promise<unknown>).then(
          (result) => statement.settle() && resolve(result),
          (error: unknown) => statement.settle() && reject(error),
        );
      });
    } catch (error) {
      statement.settle();
      throw error;
    }
  };
}

/** Clients whose connection the watch closed for a statement it gave up. */
const givenUpClients = new WeakSet<ClientBase>();

/**
 * Whether the watch gave up a statement on `client`, and so closed its connection. Its caller
 * hears `AnswerNotHeard` like any failure, and may release the client without an error: whoever
 * gives the client back to a pool asks this first (checkOutClient).
 */
export function isGivenUpByWatch(client: ClientBase): boolean {
  return givenUpClients.has(client);
}

type WatchedClient = ClientBase & { readonly processID?: number | null; readonly connection?: { readonly stream?: Duplex } };

/**
 * Closes the client's socket without the goodbye `end()` sends and waits on, which a server out
 * of reach never acknowledges. node-postgres has no public way; its socket is `connection.stream`.
 */
export function closeOutright(client: ClientBase): void {
  (client as WatchedClient).connection?.stream?.destroy();
}

/** A cursor or stream (`submit`) keeps its own pace; a `query_timeout` already bounds the statement. */
function hasLimitOfItsOwn(config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return false;
  const { submit, query_timeout: limit } = config as { submit?: unknown; query_timeout?: unknown };
  return typeof submit === 'function' || limit !== undefined;
}

class WatchedStatement {
  onGivenUp?: (error: AnswerNotHeard) => void;
  private isSettled = false;
  private heardAt = Date.now();
  private timer?: NodeJS.Timeout;
  private readonly socket?: Duplex;
  private readonly heard = () => {
    this.heardAt = Date.now();
  };

  constructor(
    private readonly client: WatchedClient,
    private readonly watch: AnswerWatch,
  ) {
    this.socket = client.connection?.stream;
    this.socket?.on('data', this.heard);
    this.checkIn(this.halfMs);
  }

  /** True only the first time: the statement's own outcome goes to its caller unless it was given up before. */
  settle(): boolean {
    if (this.isSettled) return false;
    this.isSettled = true;
    clearTimeout(this.timer);
    this.socket?.off('data', this.heard);
    return true;
  }

  private get halfMs(): number {
    return this.watch.timeoutMs / 2;
  }

  private checkIn(ms: number): void {
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const silentMs = Date.now() - this.heardAt;
    if (silentMs < this.halfMs) return this.checkIn(this.halfMs - silentMs);
    const isWorking = await isStillWorking(this.watch.url, this.client.processID, this.halfMs);
    if (this.isSettled) return;
    if (!isWorking) return this.giveUp();
    this.heardAt = Date.now();
    this.checkIn(this.halfMs);
  }

  private giveUp(): void {
    if (!this.settle()) return;
    // Before its caller hears of it: a release in the same turn must already find the mark.
    givenUpClients.add(this.client);
    this.onGivenUp?.(new AnswerNotHeard());
    // Its statement would stay pending on it, and a query sent next would wait behind it.
    closeOutright(this.client);
  }
}

/**
 * Not waiting on the client (`ClientRead`/`ClientWrite`): a session waiting to hand us an answer
 * that has not come for half the timeout is one whose answer the network lost.
 */
const IS_RUNNING = "SELECT state = 'active' AND wait_event_type IS DISTINCT FROM 'Client' AS running FROM pg_stat_activity WHERE pid = $1";

/** Whether PostgreSQL says, within `withinMs`, that the session `processID` is running a statement. */
async function isStillWorking(url: string, processID: number | null | undefined, withinMs: number): Promise<boolean> {
  if (typeof processID !== 'number') return false;
  const deadline = Date.now() + withinMs;
  const probe = new Client({ connectionString: url, connectionTimeoutMillis: withinMs, application_name: 'consent-ledger-answer-watch' });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const asked = { text: IS_RUNNING, values: [processID], query_timeout: Math.max(1, deadline - Date.now()) } as QueryConfig;
    const { rows } = await probe.query<{ running: boolean }>(asked);
    void probe.end().catch(() => undefined);
    return rows[0]?.running === true;
  } catch {
    // Ending it would wait for a server that does not answer.
    closeOutright(probe);
    return false;
  }
}
