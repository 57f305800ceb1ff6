// Shared by the benchmarks; not run on its own.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU used by each role over a stretch, in core-seconds, and the machine's idle share. */
export interface CpuUse {
  /** By role, in the order the roles were named, then PostgreSQL, Kafka and this process. */
  readonly coreSeconds: ReadonlyMap<string, number>;
  readonly idleShare: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Reads every process's CPU time from /proc, so a benchmark can say what each process spent per
 * operation. On two cores the load generator, the service and PostgreSQL compete for the same CPU:
 * a rate alone does not say which of them ran out. Linux only; elsewhere it reports nothing.
 */
export class ProcessCpu {
  private readonly roleOfPid = new Map<number, string>();
  private readonly roles: string[];

  /**
   * `services`: role name (e.g. "service", "projectors") → the processes under test that play it;
   * `thisProcess`: the role of the benchmark's own process.
   */
  constructor(
    services: Readonly<Record<string, readonly (number | undefined)[]>>,
    private readonly thisProcess = 'load generator',
  ) {
    for (const [role, pids] of Object.entries(services)) {
      for (const pid of pids) if (pid !== undefined) this.roleOfPid.set(pid, role);
    }
    this.roles = [...Object.keys(services), 'PostgreSQL', 'Kafka', thisProcess];
  }

  start(): () => CpuUse | undefined {
    const before = this.sample();
    return () => {
      const after = this.sample();
      if (!before || !after) return undefined;
      const coreSeconds = new Map<string, number>(this.roles.map((role) => [role, 0]));
      for (const [pid, { role, ticks }] of after.processes) {
        const used = ticks - (before.processes.get(pid)?.ticks ?? 0);
        coreSeconds.set(role, coreSeconds.get(role)! + used / CLOCK_TICKS_PER_SECOND);
      }
      for (const [role, used] of coreSeconds) if (used === 0) coreSeconds.delete(role);
      const total = after.machine.total - before.machine.total;
      return { coreSeconds, idleShare: total > 0 ? (after.machine.idle - before.machine.idle) / total : 0 };
    };
  }

  private sample(): { processes: Map<number, { role: string; ticks: number }>; machine: { total: number; idle: number } } | undefined {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return undefined;
    }
    const processes = new Map<number, { role: string; ticks: number }>();
    for (const name of pids) {
      const pid = Number(name);
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const role = this.roleOf(pid, command);
        if (!role) continue;
        // Fields after the command: state is the first, utime and stime the 12th and 13th.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        processes.set(pid, { role, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // The process ended between the listing and the read.
      }
    }
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
    return { processes, machine: { total: cpu.reduce((sum, value) => sum + value, 0), idle: cpu[3] + cpu[4] } };
  }

  private roleOf(pid: number, command: string): string | undefined {
    if (pid === process.pid) return this.thisProcess;
    const named = this.roleOfPid.get(pid);
    if (named) return named;
    if (command === 'postgres') return 'PostgreSQL';
    // The broker started by scripts/kafka is the machine's only Java process in these runs.
    if (command === 'java') return 'Kafka';
    return undefined;
  }
}

/** "CPU per command: service 690 µs, PostgreSQL 270 µs, Kafka 0 µs, load generator 70 µs; machine 19% idle". */
export function describeCpuPer(use: CpuUse | undefined, operations: number, operation: string): string {
  if (!use || operations === 0) return `CPU per ${operation}: not measured (no /proc)`;
  const parts = [...use.coreSeconds].map(([role, coreSeconds]) => `${role} ${Math.round((coreSeconds / operations) * 1e6)} µs`);
  return `CPU per ${operation}: ${parts.join(', ')}; machine ${Math.round(use.idleShare * 100)}% idle`;
}
