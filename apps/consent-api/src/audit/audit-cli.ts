import { auditFromEnvironment } from './audit-from-environment';

/** Entry point of `npm run audit -- <command>`. */
void auditFromEnvironment(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
});
