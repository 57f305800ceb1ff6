import { createServer, type Server, type Socket, connect } from 'node:net';

/** A TCP proxy a test can cut and restore, to take a database away from the service under test. */
export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  /**
   * Keeps every connection open and takes new ones, but passes nothing on: a network cut that
   * neither end notices, where a query waits for an answer that does not come.
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
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let frozen = false;
  const held: Array<() => void> = [];
  const stranded = new WeakSet<Socket>();

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
        for (const [from, to] of [[client, upstream], [upstream, client]]) {
          from.on('data', (chunk) => {
            if (stranded.has(from)) return;
            if (!frozen) return to.write(chunk);
            from.pause();
            held.push(() => {
              to.write(chunk);
              from.resume();
            });
          });
        }
        client.on('close', () => upstream.destroy());
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
    for (const pass of held.splice(0)) pass();
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
      held.length = 0;
      frozen = false;
    },
    close: () => {
      thaw();
      return stop();
    },
  };
}
