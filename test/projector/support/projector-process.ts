import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '../../..');
export const PROJECTOR_MAIN = join(ROOT, 'dist/apps/projector/src/main.js');

/**
 * Compiles the apps as `npm run build` does. tsc still emits when another part of the repository
 * has a type error, so the projector is tested as long as its own code compiles.
 */
export async function buildProjector(): Promise<void> {
  const run = promisify(execFile);
  await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 240_000 }).catch(() => undefined);
  await run('npx', ['tsc-alias', '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 120_000 });
  if (!existsSync(PROJECTOR_MAIN)) throw new Error(`${PROJECTOR_MAIN} was not built`);
}

/** The compiled projector as its own process, as `npm run start:projector` runs it. */
export class ProjectorProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [PROJECTOR_MAIN], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => this.output.push(chunk.toString());
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once the process says it is running; rejects if it exits first. */
  async running(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let hasExited = false;
    void this.exited.then(() => (hasExited = true));
    while (!this.output.join('').includes('running (event store')) {
      if (hasExited) throw new Error(`the projector exited:\n${this.output.join('')}`);
      if (Date.now() > deadline) throw new Error(`the projector did not start in ${timeoutMs} ms:\n${this.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** No shutdown hooks, no flush: what a crash or an OOM kill does. */
  kill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}
