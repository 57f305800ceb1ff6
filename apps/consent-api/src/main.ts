import 'reflect-metadata';
import { Environment, logLine, readLogFormat } from '@consent-ledger/deployment';
import { LOG_CONTEXT, serve } from './serve';

serve(process.env, { stdout: process.stdout, stderr: process.stderr })
  .then((served) => {
    if ('exitCode' in served) process.exit(served.exitCode);
  })
  .catch((error: unknown) => {
    const format = readLogFormat(new Environment(process.env, process.cwd()));
    const message = `Consent Ledger API failed to start: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(logLine(format, { level: 'fatal', context: LOG_CONTEXT, message }));
    process.exit(1);
  });
