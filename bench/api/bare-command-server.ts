// Started by bench/api/http-ceiling.bench.ts in a process of its own; not run on its own.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'pg';

/**
 * The least a durable command over HTTP can cost on this machine: parse the JSON body, write it
 * as one row, answer 201 once the row is committed. No validation, no decision, no idempotency,
 * no read models. `BARE_MODE=per-request` gives each request its own INSERT (its own commit);
 * `grouped` writes the requests waiting at that moment in one multi-row INSERT, one commit for
 * all, as the event store's group commit does.
 */
const mode = process.env.BARE_MODE === 'grouped' ? 'grouped' : 'per-request';
// Connections close once idle: the benchmark's contenders take turns on PostgreSQL's 100.
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: mode === 'grouped' ? 4 : 64, idleTimeoutMillis: 1000 });

interface Waiting {
  readonly row: [string, string, string];
  readonly done: (error?: Error) => void;
}
const waiting: Waiting[] = [];
let inFlight = 0;

function writeGrouped(row: [string, string, string]): Promise<void> {
  return new Promise((resolve, reject) => {
    waiting.push({ row, done: (error) => (error ? reject(error) : resolve()) });
    flush();
  });
}

function flush(): void {
  // Two groups in flight, like the event store: one commits while the next fills.
  if (inFlight >= 2 || waiting.length === 0) return;
  const group = waiting.splice(0, waiting.length);
  inFlight += 1;
  const values = group.map((_, index) => `($${index * 3 + 1}, $${index * 3 + 2}, $${index * 3 + 3})`).join(', ');
  pool
    .query(`INSERT INTO bare_commands (stream_name, event_id, data) VALUES ${values}`, group.flatMap((each) => each.row))
    .then(
      () => group.forEach((each) => each.done()),
      (error: Error) => group.forEach((each) => each.done(error)),
    )
    .finally(() => {
      inFlight -= 1;
      flush();
    });
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    const command = JSON.parse(text) as { subjectId: string };
    const row: [string, string, string] = [command.subjectId, String(request.headers['idempotency-key']), text];
    const written = mode === 'grouped' ? writeGrouped(row) : pool.query('INSERT INTO bare_commands (stream_name, event_id, data) VALUES ($1, $2, $3)', row).then(() => undefined);
    written.then(
      () => {
        const body = JSON.stringify({ subjectId: command.subjectId, accepted: true });
        response.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        response.end(body);
      },
      (error: Error) => {
        response.writeHead(500, { 'content-length': Buffer.byteLength(error.message) });
        response.end(error.message);
      },
    );
  });
}

async function main(): Promise<void> {
  await pool.query('CREATE TABLE IF NOT EXISTS bare_commands (id bigserial PRIMARY KEY, stream_name text NOT NULL, event_id text NOT NULL, data jsonb NOT NULL)');
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    process.stdout.write(`listening on http://127.0.0.1:${address.port} (${mode})\n`);
  });
  process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
}

void main();
