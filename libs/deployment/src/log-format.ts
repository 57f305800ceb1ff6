import { ConsoleLogger, Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import type { Environment } from './environment';

/**
 * How the API and the projector write their logs (LOG_FORMAT): `text`, NestJS's lines for a
 * person at a terminal; `json`, one JSON object per line for a log shipper.
 */
export type LogFormat = 'text' | 'json';

const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** LOG_FORMAT: `text` when unset; a refused value reads as `text`, so the refusal itself can be written. */
export function readLogFormat(environment: Environment): LogFormat {
  const format = environment.text('LOG_FORMAT') ?? 'text';
  if (LOG_FORMATS.includes(format as LogFormat)) return format as LogFormat;
  environment.problems.push(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')} (got "${format}")`);
  return 'text';
}

/**
 * The id of the request a line is written for, if any: the API's HTTP edge knows it (and answers
 * with it), so an operator finds the lines of a request a caller quotes. The projector has none.
 */
export type RequestIdSource = () => string | undefined;

/** The fields of every JSON log line, whoever writes it. */
interface JsonLogLine {
  readonly level: LogLevel;
  readonly context: string;
  readonly message: unknown;
  readonly requestId?: string;
  readonly stack?: unknown;
}

/**
 * One line as LOG_FORMAT wants it, for what a process writes outside NestJS's logger (that it
 * listens, that it cannot start): in `text` the message as it always was, in `json` the object
 * NestJS's lines carry.
 */
export function logLine(format: LogFormat, line: JsonLogLine): string {
  if (format === 'text') return `${String(line.message)}\n`;
  return `${JSON.stringify(jsonFields(Date.now(), line))}\n`;
}

/**
 * UTC in ISO-8601, timestamp first: NestJS's own JSON lines carry milliseconds since 1970, which
 * a shipper reads as a number, not a time.
 */
function jsonFields(at: number, { level, context, message, requestId, stack }: JsonLogLine): Record<string, unknown> {
  return {
    timestamp: new Date(at).toISOString(),
    level,
    context,
    message,
    pid: process.pid,
    ...(requestId !== undefined && { requestId }),
    ...(stack !== undefined && { stack }),
  };
}

/**
 * NestJS's console logger in its JSON mode (no colour, a stack inside its line, not on lines of
 * its own), with the timestamp a shipper reads as a time, the process's name as the context of
 * lines that give none, and `requestId` on the lines written for a request.
 */
export class JsonLinesLogger extends ConsoleLogger {
  constructor(
    processName: string,
    logLevels?: LogLevel[],
    private readonly requestIdOfLine: RequestIdSource = () => undefined,
  ) {
    super(processName, { json: true, colors: false, ...(logLevels && { logLevels }) });
  }

  protected override printAsJson(message: unknown, options: { context: string; logLevel: LogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown }): void {
    const { timestamp } = this.getJsonLogObject(message, options);
    const context = options.context || (this.context ?? '');
    const fields = jsonFields(timestamp, { level: options.logLevel, context, message, requestId: this.requestIdOfLine(), stack: options.errorStack });
    // Nest's serialiser, for its cap on huge values and its handling of cycles, Maps and errors.
    process[options.writeStreamType ?? 'stdout'].write(`${this.stringifyJsonLogObject(fields)}\n`);
  }
}

/**
 * NestJS's text lines, with `requestId=<id>` after the context of a line written for a request:
 * `WARN [ledger-storage] requestId=9f1c… the ledger storage is unavailable …`.
 */
export class TextLinesLogger extends ConsoleLogger {
  constructor(
    private readonly requestIdOfLine: RequestIdSource,
    logLevels?: LogLevel[],
  ) {
    super(logLevels ? { logLevels } : {});
  }

  protected override formatContext(context: string): string {
    const requestId = this.requestIdOfLine();
    const formatted = super.formatContext(context);
    return requestId === undefined ? formatted : `${formatted}requestId=${requestId} `;
  }
}

export interface LogOptions {
  readonly logLevels?: LogLevel[];
  /** Where a line finds the request it is written for (the API); without it no line names one. */
  readonly requestId?: RequestIdSource;
}

/**
 * Makes every NestJS logger of this process write as `format` asks from now on, those created
 * before the application included (the storage opens first, and may warn), and returns the logger
 * to give the application. In `text` without `requestId`, changes nothing: NestJS's own logger stays.
 */
export function useLogFormat(format: LogFormat, processName: string, { logLevels, requestId }: LogOptions = {}): LoggerService | undefined {
  const logger = format === 'json' ? new JsonLinesLogger(processName, logLevels, requestId) : requestId && new TextLinesLogger(requestId, logLevels);
  if (!logger) return undefined;
  Logger.overrideLogger(logger);
  return logger;
}

/**
 * A warn/error sink for the libraries (projections, leases, the feed) through a NestJS logger, so
 * their lines follow LOG_FORMAT: an error is given as its stack, in the line, not as its fields
 * spread over lines of their own as the console writes them.
 */
export function nestLogOf(logger: Logger): { warn(message: string): void; error(message: string, error?: unknown): void } {
  return {
    warn: (message) => logger.warn(message),
    error: (message, error) => logger.error(message, error === undefined ? undefined : error instanceof Error ? (error.stack ?? error.message) : String(error)),
  };
}
