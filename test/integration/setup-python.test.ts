import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const script = new URL('../../bin/setup-python.mjs', import.meta.url).pathname;

describe('setup step of npm start and .ci/run (bin/setup-python.mjs)', () => {
  it('does nothing, silently, when the interpreter has the packages', () => {
    const r = spawnSync(process.execPath, [script], { env: { ...process.env, CTLOOP_SETUP_PYTHON: '/bin/true' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('names the packages and how to install them when it cannot install (not root), without failing npm start', () => {
    const r = spawnSync(process.execPath, [script], { env: { ...process.env, CTLOOP_SETUP_PYTHON: '/bin/false', CTLOOP_SETUP_APT: '0' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/cannot import xgboost, pandas, sklearn and scipy/);
    expect(r.stderr).toMatch(/python3-xgboost.*python3-pandas.*python3-sklearn.*python3-scipy/);
  });
});
