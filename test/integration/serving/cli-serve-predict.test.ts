import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/config.js';
import { createRuntime } from '../../../shared/runtime/runtime.js';
import { SERVING_LOG_TABLE } from '../../../shared/serving/serving-log.js';
import { ctloopBin, runCli } from '../../helpers/cli.js';
import { servingState } from '../../helpers/serving-fixtures.js';
import { trainSmallModel, xgboostSkipReason, type TrainedModel } from '../../helpers/xgb-model.js';

const skip = xgboostSkipReason();
if (skip) console.warn(`skipping ctloop serve/predict tests: ${skip}`);

describe.skipIf(Boolean(skip))('ctloop predict and ctloop serve (embedded default)', () => {
  let dir: string;
  let model: TrainedModel;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ctloop-cli-serve-'));
    model = trainSmallModel(5, join(dir, 'model'));
    env = await servingState(dir, model.dir);
    writeFileSync(join(dir, 'instances.json'), JSON.stringify({ instances: [{ origin: 'ORD', destination: 'LAX', hour: 17 }, { origin: 'SFO', destination: 'JFK', hour: 3, airport_delayed_share: 0.2 }] }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('predict --format json: the champion answers with online features, and the serving log holds both instances', async () => {
    const r = await runCli(['predict', '--model', 'flight_delay', '--instances', join(dir, 'instances.json'), '--format', 'json'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toEqual({ name: 'flight_delay', version: '1' });
    expect(out.predictions).toHaveLength(2);
    expect(out.featureStatuses[0]).toMatchObject({ route_avg_delay: 'PRESENT', airport_delayed_share: 'PRESENT' });
    expect(out.featureStatuses[1]).toMatchObject({ route_avg_delay: 'NOT_FOUND', airport_delayed_share: 'REQUEST' });
    const rt = await createRuntime(loadConfig(env), {}, { readOnly: true });
    try {
      const rows = await rt.warehouse.query(`SELECT instance_index, prediction, version FROM ${rt.warehouse.dialect.table(SERVING_LOG_TABLE)} WHERE request_id = '${out.requestId}' ORDER BY instance_index`);
      expect(rows.map((x) => [Number(x.instance_index), x.version])).toEqual([[0, '1'], [1, '1']]);
      expect(rows[0]!.prediction).toBeCloseTo(out.predictions[0], 12);
    } finally {
      await rt.close();
    }
  });

  it('bad input: an unknown model, a missing file, a bad instances file, an unknown version: each a clear error and a non-zero exit', async () => {
    const unknown = await runCli(['predict', '--model', 'nope', '--instances', join(dir, 'instances.json')], { env });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/model nope has no version or alias "champion"/);
    const missing = await runCli(['predict', '--model', 'flight_delay', '--instances', join(dir, 'absent.json')], { env });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read --instances/);
    writeFileSync(join(dir, 'bad.json'), '{"instances": [{"origin": "ORD", "hour": [1]}]}');
    const bad = await runCli(['predict', '--model', 'flight_delay', '--instances', join(dir, 'bad.json')], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/instances\[0\]\.hour/);
    const version = await runCli(['predict', '--model', 'flight_delay', '--version', '9', '--instances', join(dir, 'instances.json')], { env });
    expect(version.stderr).toMatch(/no version or alias "9"[\s\S]*versions: 1 \(champion\)/);
  });

  it('serve --port 0 answers POST /predict (also through predict --url) and flushes the serving log when stopped', async () => {
    const started = new Date();
    const child = spawn(process.execPath, [ctloopBin, 'serve', '--port', '0', '--format', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    try {
      const lines = createInterface({ input: child.stdout });
      let text = '';
      for await (const l of lines) { text += l; if (l.startsWith('}')) break; }
      const { url, models } = JSON.parse(text) as { url: string; models: Record<string, string> };
      expect(models).toEqual({ flight_delay: '1' });
      const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'x-request-id': 'cli-serve-1' }, body: JSON.stringify({ instances: [{ origin: 'ORD', destination: 'LAX', hour: 1 }] }) });
      expect(res.status).toBe(200);
      const viaUrl = await runCli(['predict', '--model', 'flight_delay', '--instances', join(dir, 'instances.json'), '--url', url], { env });
      expect(viaUrl.code).toBe(0);
      expect(viaUrl.stdout).toMatch(/flight_delay@1 {2}request [\s\S]*\[1\] 0\.\d{6} {3}\(route_avg_delay NOT_FOUND\)/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(stderr).toBe('');
    const rt = await createRuntime(loadConfig(env), {}, { readOnly: true });
    try {
      const d = rt.warehouse.dialect;
      const rows = await rt.warehouse.query(`SELECT request_id, prediction FROM ${d.table(SERVING_LOG_TABLE)} WHERE logged_at >= ${d.timestamp(started)} ORDER BY request_id, instance_index`);
      expect(rows).toHaveLength(3);
      expect(rows.filter((x) => x.request_id === 'cli-serve-1')).toHaveLength(1);
    } finally {
      await rt.close();
    }
  });

  it('labels ingest then monitor: the labelled predictions give live metrics per version and day; bad input is refused', async () => {
    writeFileSync(join(dir, 'four.json'), JSON.stringify({ instances: [{ origin: 'ORD', destination: 'LAX', hour: 1 }, { origin: 'ORD', destination: 'LAX', hour: 9 }, { origin: 'ORD', destination: 'LAX', hour: 17 }, { origin: 'ORD', destination: 'LAX', hour: 22 }] }));
    const p = JSON.parse((await runCli(['predict', '--model', 'flight_delay', '--instances', join(dir, 'four.json'), '--format', 'json'], { env })).stdout) as { requestId: string };
    writeFileSync(join(dir, 'labels.jsonl'), [0, 1, 1, 0].map((label, instance) => JSON.stringify({ request_id: p.requestId, instance, label })).join('\n'));
    const ingest = await runCli(['labels', 'ingest', '--model', 'flight_delay', '--file', join(dir, 'labels.jsonl'), '--format', 'json'], { env });
    expect(ingest.code).toBe(0);
    expect(JSON.parse(ingest.stdout)).toEqual({ read: 4, labelled: 4, unmatchedLines: [] });
    const mon = await runCli(['monitor', '--model', 'flight_delay', '--format', 'json'], { env });
    expect(mon.code).toBe(0);
    const all = (JSON.parse(mon.stdout) as { metrics: { version: string; day: string; labelled: number; auc: number | null }[] }).metrics.find((m) => m.day === 'all');
    expect(all).toMatchObject({ version: '1', labelled: 4 });
    expect(all!.auc).not.toBeNull();
    const text = await runCli(['monitor', '--model', 'flight_delay'], { env });
    expect(text.stdout).toMatch(/^version\s+day\s+predictions\s+labelled/);
    const badFile = await runCli(['labels', 'ingest', '--model', 'flight_delay', '--file', join(dir, 'nope.jsonl')], { env });
    expect(badFile.code).not.toBe(0);
    expect(badFile.stderr).toMatch(/cannot read --file/);
    const badSince = await runCli(['monitor', '--model', 'flight_delay', '--since', 'yesterday'], { env });
    expect(badSince.code).toBe(2);
  });
});
