import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { loadDeliveryConfig } from '../delivery/config.js';
import { UsageError } from '../errors.js';
import { ensureDir } from '../ensure-dir.js';

/** Written by the demo into the state directory: a later demo may replace what it finds there. */
export const DEMO_MARKER = 'demo/demo-run.json';

/**
 * The demo replays January to June from scratch: drift windows, training requests and model versions are keyed by
 * simulated time, so a second run on the same state would find them all done (and the policy's cooldown would
 * hold). So each run starts from an empty embedded state. A state the demo wrote (marker present) is removed; one
 * it did not write is never touched: the demo stops and says how to choose another directory.
 */
export async function freshDemoState(config: Config): Promise<{ removed: boolean }> {
  const endpoint = loadDeliveryConfig(config).endpoint;
  const paths = [
    // The local endpoint's deployed versions and traffic: left over, the first deployment would be refused.
    ...(endpoint.kind === 'embedded' ? [endpoint.dir] : []),
    ...(config.warehouse.kind === 'duckdb' ? [config.warehouse.path, `${config.warehouse.path}.wal`] : []),
    ...(config.objectStore.kind === 'local' ? [config.objectStore.root] : []),
    ...(config.online.kind === 'embedded' ? [config.online.dir] : []),
    ...(config.eventBus.kind === 'memory' ? [config.eventBus.journalDir] : []),
    join(config.stateDir, 'demo'),
  ];
  const marker = join(config.stateDir, DEMO_MARKER);
  const used = paths.filter((p) => existsSync(p));
  if (used.length > 0 && !existsSync(marker)) {
    throw new UsageError(`the state directory ${config.stateDir} already holds ctloop data that no demo wrote (${used.join(', ')}); the demo starts from an empty state and will not remove it`, {
      hint: `run the demo in another directory (CTLOOP_STATE_DIR=.ctloop-demo npm start), or remove ${config.stateDir} yourself if it is disposable`,
    });
  }
  for (const p of used) await rm(p, { recursive: true, force: true });
  await ensureDir(join(config.stateDir, 'demo'));
  await writeFile(marker, `${JSON.stringify({ startedAt: new Date().toISOString() })}\n`);
  return { removed: used.length > 0 };
}
