import { locateEmulator, startEmulator, type EmulatorProcess, type EmulatorSpec } from './emulator-process.js';

/** Google's Bigtable emulator (gcloud's bigtable component, a Go binary, ready at once) for one test file. */
export const bigtableEmulator: EmulatorSpec = {
  name: 'bigtable',
  relPath: ['platform', 'bigtable-emulator', 'cbtemulator'],
  args: (port) => ['-host', '127.0.0.1', '-port', String(port)],
  ready: (out, port) => out.includes(`running on 127.0.0.1:${port}`),
  install: 'gcloud components install bigtable (or apt-get install google-cloud-cli-bigtable-emulator)',
};

export function bigtableEmulatorUnavailable(): string | null {
  const found = locateEmulator(bigtableEmulator);
  return 'reason' in found ? found.reason : null;
}

export const startBigtableEmulator = (): Promise<EmulatorProcess | null> => startEmulator(bigtableEmulator);
