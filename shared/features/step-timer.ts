/** Times named steps for a caller that asked (`onStep`); without one, runs them as they are. */
export type StepTimer = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

export function stepTimer(onStep?: (step: string, ms: number) => void): StepTimer {
  if (!onStep) return (_name, fn) => fn();
  return async (name, fn) => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      onStep(name, performance.now() - t);
    }
  };
}
