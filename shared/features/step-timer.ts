/** Times named steps for a caller that asked (`onStep`); without one, runs them as they are. */
export type StepTimer = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/**
 * `ms` is wall time; `cpuMs` the CPU time of the whole process meanwhile (every thread: DuckDB's too), steadier than
 * wall time on a busy machine while steps run one at a time.
 */
export function stepTimer(onStep?: (step: string, ms: number, cpuMs: number) => void): StepTimer {
  if (!onStep) return (_name, fn) => fn();
  return async (name, fn) => {
    const t = performance.now();
    const c = process.cpuUsage();
    try {
      return await fn();
    } finally {
      const used = process.cpuUsage(c);
      onStep(name, performance.now() - t, (used.user + used.system) / 1000);
    }
  };
}
