import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/config.js';
import { DEMO_MARKER, freshDemoState } from '../../shared/demo/fresh-state.js';

/**
 * A second demo on the same state starts clean: everything the previous one wrote goes, the local endpoint's state
 * included (otherwise its first deployment is refused: "version 1 already serves 100% of the traffic").
 */
describe('freshDemoState', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('removes the previous demo\'s files, the embedded endpoint state included', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ctloop-fresh-'));
    dirs.push(state);
    await mkdir(join(state, 'demo'), { recursive: true });
    await writeFile(join(state, DEMO_MARKER), '{}\n');
    await writeFile(join(state, 'warehouse.duckdb'), 'x');
    await mkdir(join(state, 'endpoints'), { recursive: true });
    await writeFile(join(state, 'endpoints', 'flight_delay.json'), '{"deployed":[]}');
    const { removed } = await freshDemoState(loadConfig({ CTLOOP_STATE_DIR: state }));
    expect(removed).toBe(true);
    expect(existsSync(join(state, 'warehouse.duckdb'))).toBe(false);
    expect(existsSync(join(state, 'endpoints'))).toBe(false);
    expect(existsSync(join(state, DEMO_MARKER))).toBe(true);
  });
});
