import { spawn } from 'node:child_process';

export interface ProcessOutcome {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs `count` Node processes of `script` that each wait for the same instant before going on, as
 * processes a supervisor starts together would race, and gives each one's exit code and output.
 * The script runs the compiled code (`dist/`, which `npm test` builds first): each process must
 * load the module itself, as a deployment does.
 */
export function processesAtOnce(script: string, count: number): Promise<ProcessOutcome[]> {
  const together = `const at = ${Date.now() + 1_500}; while (Date.now() < at);\n${script}`;
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ProcessOutcome>((resolve) => {
          const child = spawn(process.execPath, ['-e', together], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.on('data', (chunk) => (out += chunk));
          child.stderr.on('data', (chunk) => (err += chunk));
          child.on('exit', (code) => resolve({ code, out, err }));
        }),
    ),
  );
}
