import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';
import { prepareFlightFiles } from '../../examples/flights/data.js';
import { prepareFlightsView } from '../../examples/flights/flights-view.js';
import { loadConfig } from '../../shared/config/config.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import { createRuntime, type Runtime } from '../../shared/runtime/runtime.js';

export const repoRoot = new URL('../..', import.meta.url).pathname;

/** Whether Debian's python3 with xgboost, pandas and sklearn is there (the reference trainer's needs). */
export async function pythonTrainerMissing(): Promise<string | null> {
  const { execFile } = await import('node:child_process');
  return new Promise((res) => {
    execFile('/usr/bin/python3', ['-c', 'import xgboost, pandas, sklearn'], (err) => {
      res(err ? 'needs /usr/bin/python3 with python3-xgboost, python3-pandas, python3-sklearn (Debian; .ci/run installs them)' : null);
    });
  });
}

export interface TrainingFixture {
  rt: Runtime;
  dir: string;
  modelsFile: string;
  cleanup(): Promise<void>;
}

const q = (p: string) => `'${p.replace(/'/g, "''")}'`;

/**
 * An embedded runtime with the repository's features.yaml and a models file written for the test, loaded with a
 * small sample of the real flights: `flights` rows from `from` to `to`, route and airport statistics of those days.
 */
export async function trainingFixture(opts: { models: string; flights: number; from: string; to: string; env?: Record<string, string> }): Promise<TrainingFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-train-'));
  const modelsFile = join(dir, 'models.yaml');
  await writeFile(modelsFile, opts.models);
  const config = loadConfig({
    CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(repoRoot, 'features.yaml'), CTLOOP_MODELS: modelsFile,
    METADATA_SERVER_DETECTION: 'none', ...(opts.env ?? {}),
  }, repoRoot);
  const rt = await createRuntime(config);
  await applyFeatureRepo(rt.warehouse, rt.repo);
  const data = join(dir, 'data');
  const files = await prepareFlightFiles(data, { spineFrom: opts.from, spineTo: opts.to, spineRows: 1 });
  const flights = await prepareFlightsView(data, { rows: opts.flights, from: opts.from, to: opts.to });
  const inst = await DuckDBInstance.create(':memory:');
  const c = await connectUtc(inst);
  const window = `event_timestamp >= TIMESTAMP ${q(opts.from)} AND event_timestamp <= TIMESTAMP ${q(opts.to)}`;
  try {
    for (const f of [files.routeDaily, files.airportDaily]) {
      await c.run(`COPY (SELECT * FROM read_parquet(${q(f)}) WHERE ${window}) TO ${q(`${f}.window.parquet`)} (FORMAT parquet)`);
    }
  } finally {
    c.closeSync();
    inst.closeSync();
  }
  const deps = { warehouse: rt.warehouse, online: rt.online, objectStore: rt.objectStore, repo: rt.repo };
  await loadFeatureFile(deps, { view: 'flights', uri: flights.path, format: 'parquet' });
  await loadFeatureFile(deps, { view: 'route_daily', uri: `${files.routeDaily}.window.parquet`, format: 'parquet' });
  await loadFeatureFile(deps, { view: 'airport_daily', uri: `${files.airportDaily}.window.parquet`, format: 'parquet' });
  return {
    rt, dir, modelsFile,
    async cleanup() {
      await rt.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A models.yaml for tests: flight_delay with short windows and the given trainer command. */
export function testModels(opts: { command?: string[]; args?: string[]; timeoutSeconds?: number; split?: string } = {}): string {
  const command = opts.command ?? ['/usr/bin/python3', join(repoRoot, 'trainers/flight-delay/train.py')];
  return `models:
  - name: flight_delay
    featureService: delay_model
    spine: { view: flights, label: delayed, keys: { airport: origin } }
    trainer:
      command: ${JSON.stringify(command)}
      args: ${JSON.stringify(opts.args ?? ['--num-boost-round', '60'])}
      timeoutSeconds: ${opts.timeoutSeconds ?? 300}
    split: ${opts.split ?? '{ train: 21d, validation: 7d, test: 14d }'}
    slices: [origin]
`;
}
