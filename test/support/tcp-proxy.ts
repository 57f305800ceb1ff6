import { createServer, type Server, type Socket, connect } from 'node:net';

/** A TCP proxy a test can cut and restore, to take a database away from the service under test. */
export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  /**
   * Keeps every connection open and takes new ones, but passes nothing on, a client closing its
   * connection included: a network cut that neither end notices, where a query waits for an
   * answer that does not come.
   */
  freeze(): void;
  /** Undoes `cut` or `freeze`; what was held during a freeze is passed on, and stranded connections are closed. */
  restore(): Promise<void>;
  /**
   * Ends a freeze as a firewall or a failed-over database host does: the connections open until
   * now stay open but carry nothing more, what they held is lost, and new connections pass. A
   * query sent on one of them waits for an answer that never comes.
   */
  strandOpenConnections(): void;
  /**
   * Ends a freeze as a cut network heals: new connections, and those that sent nothing into the
   * cut, pass at once; a connection that did stays stuck until TCP's retransmission backoff
   * reaches it, `backoffMs` later (a minute or more in production), and only then passes on what
   * it held and what came after.
   */
  heal(backoffMs: number): void;
  /**
   * Passes on the next thing a client sends that contains `marker`, then drops everything the
   * server answers on that connection, which stays open: the database did the work, and its
   * answer was lost on the way back. Resolves once the marked message went through.
   */
  loseAnswersAfter(marker: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let frozen = false;
  /** What each connection (named by its client's socket) was sent while it could not pass it on, in order. */
  const held = new Map<Socket, Array<() => void>>();
  /** Connections that sent something into a cut that has healed, waiting for their retransmission. */
  const stuck = new Set<Socket>();
  const backoffs = new Set<NodeJS.Timeout>();
  const stranded = new WeakSet<Socket>();
  const answerLosses: Array<{ readonly marker: Buffer; sent(): void }> = [];

  const passHeld = (connection: Socket) => {
    const pending = held.get(connection) ?? [];
    held.delete(connection);
    for (const pass of pending) pass();
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      if (server) return resolve();
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        const forward = (from: Socket, to: Socket, chunk: Buffer) => {
          const lossAt = from === client ? answerLosses.findIndex((loss) => chunk.includes(loss.marker)) : -1;
          to.write(chunk);
          if (lossAt < 0) return;
          stranded.add(upstream);
          answerLosses.splice(lossAt, 1)[0].sent();
        };
        for (const [from, to] of [[client, upstream], [upstream, client]]) {
          from.on('data', (chunk: Buffer) => {
            if (stranded.has(from)) return;
            if (!frozen && !stuck.has(client)) return forward(from, to, chunk);
            from.pause();
            const pending = held.get(client) ?? [];
            held.set(client, pending);
            pending.push(() => {
              forward(from, to, chunk);
              from.resume();
            });
          });
        }
        // A client's end sent into a cut is held like its data: the server learns of it only once
        // the cut is over, and meanwhile keeps what the connection holds (a transaction, its locks).
        client.on('close', () => {
          if (!frozen && !stuck.has(client)) return upstream.destroy();
          const pending = held.get(client) ?? [];
          held.set(client, pending);
          pending.push(() => upstream.destroy());
        });
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  const thaw = () => {
    for (const socket of sockets) if (stranded.has(socket)) socket.destroy();
    frozen = false;
    for (const backoff of backoffs) clearTimeout(backoff);
    backoffs.clear();
    stuck.clear();
    for (const connection of [...held.keys()]) passHeld(connection);
  };

  await listen();
  return {
    port,
    cut: stop,
    freeze: () => {
      frozen = true;
    },
    restore: () => {
      thaw();
      return listen();
    },
    strandOpenConnections: () => {
      for (const socket of sockets) stranded.add(socket);
      held.clear();
      stuck.clear();
      frozen = false;
    },
    heal: (backoffMs) => {
      const cutOff = [...held.keys()];
      for (const connection of cutOff) stuck.add(connection);
      frozen = false;
      const backoff = setTimeout(() => {
        backoffs.delete(backoff);
        for (const connection of cutOff) {
          stuck.delete(connection);
          passHeld(connection);
        }
      }, backoffMs);
      backoff.unref();
      backoffs.add(backoff);
    },
    loseAnswersAfter: (marker) => new Promise((sent) => answerLosses.push({ marker: Buffer.from(marker), sent })),
    close: () => {
      thaw();
      return stop();
    },
  };
}
