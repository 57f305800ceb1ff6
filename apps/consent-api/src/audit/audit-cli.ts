import { auditFromEnvironment } from './audit-from-environment';

/** Entry point of `npm run audit -- <command>`. */
void auditFromEnvironment(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
  // A connection to a PostgreSQL that stopped answering is ended by asking it to close, which a
  // cut network never delivers: its socket would keep the process, its work done and said.
  setTimeout(() => process.exit(code), 1000).unref();
});
