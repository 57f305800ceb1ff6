import type { LoggerService } from '@nestjs/common';

/** Keeps what the projector logs, so that a test can wait on a line; prints nothing. */
export class RecordingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log = (message: unknown) => this.keep('log', message);
  error = (message: unknown) => this.keep('error', message);
  warn = (message: unknown) => this.keep('warn', message);
  debug = (message: unknown) => this.keep('debug', message);
  verbose = (message: unknown) => this.keep('verbose', message);
  fatal = (message: unknown) => this.keep('fatal', message);
  private keep(level: string, message: unknown) {
    this.lines.push({ level, message: message instanceof Error ? (message.stack ?? message.message) : String(message) });
  }
}
