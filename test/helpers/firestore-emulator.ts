import { javaMissing, locateEmulator, startEmulator, type EmulatorProcess, type EmulatorSpec } from './emulator-process.js';

/**
 * Google's Firestore emulator (gcloud's cloud-firestore-emulator component, Java 17) for one test file. Nothing
 * global is set: tests pass `host` to the adapter. First round trips take ~1 s (connection set-up).
 */
export const firestoreEmulator: EmulatorSpec = {
  name: 'firestore',
  relPath: ['platform', 'cloud-firestore-emulator', 'cloud_firestore_emulator'],
  args: (port) => ['start', '--host=127.0.0.1', `--port=${port}`],
  ready: (out) => out.includes('Dev App Server is now running'),
  requires: javaMissing,
  install: 'gcloud components install cloud-firestore-emulator (or apt-get install google-cloud-cli-firestore-emulator)',
};

export function firestoreEmulatorUnavailable(): string | null {
  const found = locateEmulator(firestoreEmulator);
  return 'reason' in found ? found.reason : null;
}

export const startFirestoreEmulator = (): Promise<EmulatorProcess | null> => startEmulator(firestoreEmulator);
