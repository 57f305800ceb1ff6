// Shared by the benchmarks; not run on its own.
import { connect, type Socket } from 'node:net';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_CONNECTIONS = 256;

/**
 * Keep-alive HTTP/1.1 connections for load generators: each carries one request at a time, written
 * as one string, and its answer is read by status line and Content-Length. The load generator runs
 * on the same two cores as the service it measures, and node:http's client cost about 150 µs of
 * CPU per request there, half as much as PostgreSQL spent per command; this costs a fraction
 * (the API benchmark prints both). Answers must carry Content-Length, as Fastify's do.
 */
export class HttpConnections {
  private readonly idle: HttpConnection[] = [];
  private readonly queued: ((connection: HttpConnection) => void)[] = [];
  private readonly all = new Set<HttpConnection>();
  private readonly host: string;
  private readonly port: number;

  constructor(
    base: string,
    private readonly defaultHeaders: Readonly<Record<string, string>> = {},
  ) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  async send(method: string, path: string, body?: string, headers: Readonly<Record<string, string>> = {}): Promise<HttpAnswer> {
    const connection = await this.take();
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n`;
    for (const [name, value] of Object.entries({ ...this.defaultHeaders, ...headers })) head += `${name}: ${value}\r\n`;
    if (body !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    try {
      return await connection.exchange(`${head}\r\n${body ?? ''}`);
    } finally {
      this.giveBack(connection);
    }
  }

  close(): void {
    for (const connection of this.all) connection.close();
  }

  private take(): Promise<HttpConnection> {
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.all.size < MAX_CONNECTIONS) return Promise.resolve(this.newConnection());
    return new Promise((resolve) => this.queued.push(resolve));
  }

  private giveBack(connection: HttpConnection): void {
    if (!connection.isOpen) {
      this.all.delete(connection);
      const next = this.queued.shift();
      if (next) next(this.newConnection());
      return;
    }
    const next = this.queued.shift();
    if (next) next(connection);
    else this.idle.push(connection);
  }

  private newConnection(): HttpConnection {
    const connection = new HttpConnection(this.host, this.port);
    this.all.add(connection);
    return connection;
  }
}

class HttpConnection {
  private readonly socket: Socket;
  private received: Buffer = Buffer.alloc(0);
  private pending?: { resolve(answer: HttpAnswer): void; reject(error: Error): void };
  isOpen = true;

  constructor(host: string, port: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      this.answerIfComplete();
    });
    const fail = (error: Error) => {
      this.isOpen = false;
      this.pending?.reject(error);
      this.pending = undefined;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('the connection closed before the answer was complete')));
  }

  exchange(request: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private answerIfComplete(): void {
    const headerEnd = this.received.indexOf(HEADER_END);
    if (headerEnd < 0 || !this.pending) return;
    const head = this.received.toString('latin1', 0, headerEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      this.pending.reject(new Error(`answer ${status} has no Content-Length: ${head}`));
      this.pending = undefined;
      this.socket.destroy();
      return;
    }
    const bodyStart = headerEnd + HEADER_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (this.received.length < bodyEnd) return;
    const body = this.received.toString('utf8', bodyStart, bodyEnd);
    this.received = this.received.subarray(bodyEnd);
    if (/\r\nconnection: *close/i.test(head)) {
      this.isOpen = false;
      this.socket.end();
    }
    const { resolve } = this.pending;
    this.pending = undefined;
    resolve({ status, body });
  }
}
