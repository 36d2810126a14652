import { UsageError } from '../shared/errors.js';

export class Interrupted extends UsageError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}: stopped the functions and the emulators this command started`, { hint: 'start it again: a second start finds stale records and cleans them up' });
  }
}

/**
 * SIGINT/SIGTERM as a rejection, from the moment this is called (emulators being started included), so the command
 * stops what it started instead of dying with its process groups left behind. `dispose` restores the default handling.
 */
export function onInterrupt(): { interrupted: Promise<never>; dispose(): void } {
  let handler: ((s: NodeJS.Signals) => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    handler = (s) => reject(new Interrupted(s));
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
  interrupted.catch(() => undefined);
  return {
    interrupted,
    dispose() {
      process.removeListener('SIGINT', handler!);
      process.removeListener('SIGTERM', handler!);
    },
  };
}

/**
 * Wait for `starting` or an interrupt. Interrupted while starting: whatever `starting` yields is closed once it is
 * there, then the interrupt is thrown.
 */
export async function startInterruptibly<T extends { close(): Promise<void> }>(starting: Promise<T>, interrupted: Promise<never>): Promise<T> {
  try {
    return await Promise.race([starting, interrupted]);
  } catch (err) {
    if (err instanceof Interrupted) await starting.then((s) => s.close(), () => undefined);
    throw err;
  }
}
