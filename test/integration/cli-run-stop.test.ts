import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * `ctloop run` keeps running until stopped, then stops its functions (waiting for running handlers) and says so.
 * Its wait once held nothing that kept Node's event loop alive, so the process ended at once with exit code 13
 * (unsettled top-level await) and never reached the stop path.
 */
describe('ctloop run stops cleanly', () => {
  it('runs for --for seconds, then stops its functions and exits 0', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ctloop-run-stop-'));
    try {
      const r = await runCli(['run', '--for', '1'], { env: { ...process.env, CTLOOP_STATE_DIR: state, METADATA_SERVER_DETECTION: 'none' } });
      expect(r.code, r.stderr).toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain('stopped');
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
