import {
  startStorageEmulator,
  storageEmulatorUnavailableReason,
  type RunningStorageEmulator,
} from '../../emulators/storage-emulator.js';

/**
 * Test-side wrapper of the in-process Cloud Storage emulator (emulators/storage-emulator.ts).
 * `storageSkipReason` is set when firebase-tools cannot be loaded: suites `describe.skipIf(storageSkipReason)`
 * and the reason is printed once.
 */
const t0 = performance.now();
export const storageSkipReason: string | undefined = storageEmulatorUnavailableReason();
const loadMs = performance.now() - t0;
if (storageSkipReason) console.warn(`[skip] Cloud Storage emulator tests: ${storageSkipReason}`);

/** Starts an emulator on a free port; call `stop()` in afterAll. One per test file (one per process). */
export async function startTestStorageEmulator(): Promise<RunningStorageEmulator> {
  const emu = await startStorageEmulator();
  console.info(`[storage-emulator] ${emu.host} ready in ${Math.round(emu.startMs)} ms (+${Math.round(loadMs)} ms loading firebase-tools)`);
  return emu;
}

export type { RunningStorageEmulator };
