#!/usr/bin/env node
// Idempotent set-up step of `npm start` and .ci/run: the reference trainer (trainers/flight-delay) and the metric
// checks run on Debian's python3 with xgboost 1.7.4, pandas, scikit-learn and scipy (/usr/bin/python3). Present:
// nothing to do. Missing, as root on Debian: apt-get installs them. Otherwise: a message naming the packages (the
// demo still runs; training and the tests that need them report what is missing).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PACKAGES = ['python3-xgboost', 'python3-pandas', 'python3-sklearn', 'python3-scipy', 'python3-numpy'];
// CTLOOP_SETUP_PYTHON: another interpreter to check (tests).
const PYTHON = process.env.CTLOOP_SETUP_PYTHON || '/usr/bin/python3';
const check = () => spawnSync(PYTHON, ['-c', 'import xgboost, pandas, sklearn, scipy, numpy'], { stdio: 'ignore' }).status === 0;

if (check()) process.exit(0);
const debian = existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
// CTLOOP_SETUP_APT=0: never run apt-get (only say what is missing).
const root = typeof process.getuid === 'function' && process.getuid() === 0 && process.env.CTLOOP_SETUP_APT !== '0';
if (debian && root) {
  console.error(`setup: installing ${PACKAGES.join(' ')} (apt-get)…`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES], {
      stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    console.error(`setup: apt-get failed (${err.message.split('\n')[0]})`);
  }
  if (check()) process.exit(0);
}
console.error([
  `setup: ${PYTHON} cannot import xgboost, pandas, sklearn and scipy: local training (ctloop train) needs them.`,
  debian
    ? `  install them with: sudo apt-get install -y ${PACKAGES.join(' ')}`
    : `  install Debian 12's ${PACKAGES.join(', ')} (xgboost 1.7.4, the version the Vertex AI trainer image uses), or train on Vertex AI (CTLOOP_TRAINING=vertex)`,
].join('\n'));
