import 'reflect-metadata';
import { serve } from './serve';

serve(process.env, { stdout: process.stdout, stderr: process.stderr })
  .then((served) => {
    if ('exitCode' in served) process.exit(served.exitCode);
  })
  .catch((error: unknown) => {
    process.stderr.write(`Consent Ledger API failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
