import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineColumns, parseFeatureRepo } from '../../../shared/features/definitions.js';
import { parseModels } from '../../../shared/models/config.js';
import type { Params, ParamType, Row, Warehouse } from '../../../shared/ports/warehouse.js';
import { bigqueryDialect } from '../../../shared/sql/dialects.js';
import { labelledDataEnd } from '../../../shared/training/launch.js';
import { claimRun, findRunByJob, listRuns, recordFinished, recordLaunched, recordPrepared, RUNS_TABLE, runColumns } from '../../../shared/training/runs.js';
import { spineQuery } from '../../../shared/training/spine-query.js';
import { analyzerUnavailableReason, startAnalyzer, type Analyzer, type AnalyzerTable } from '../../helpers/zetasql.js';

const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`skipping the training SQL checks on BigQuery's analyzer: ${unavailable}`);

const root = new URL('../../..', import.meta.url).pathname;
const repo = parseFeatureRepo(parse(readFileSync(`${root}features.yaml`, 'utf8')));
const model = parseModels(parse(readFileSync(`${root}models.yaml`, 'utf8')), root, repo).model('flight_delay');
const tables: AnalyzerTable[] = [
  { name: `ctloop-local.ctloop.${RUNS_TABLE}`, columns: runColumns.map((c) => ({ name: c.name, type: c.type })) },
  { name: 'ctloop-local.ctloop.fv_flights', columns: offlineColumns(repo.view('flights')).map((c) => ({ name: c.name, type: c.type })) },
];

/** Records every statement the training code sends, answering queries with one run-shaped row. */
function recordingWarehouse(): Warehouse & { statements: { sql: string; params: Params }[] } {
  const statements: { sql: string; params: Params }[] = [];
  const row: Row = { run_id: 'r', model: 'm', request_key: 'k', request_event_id: 'e', trigger: 'manual', backend: 'vertex', state: 'PENDING', created_at: new Date(), hi: new Date() };
  return {
    statements, dialect: bigqueryDialect('ctloop-local', 'ctloop'), readsObjectUris: true, maxStagedBytes: null,
    async query(sql, opts) { statements.push({ sql, params: opts?.params ?? {} }); return [row]; },
    async execute(sql, opts) { statements.push({ sql, params: opts?.params ?? {} }); return { affectedRows: 1 }; },
    async getTable(name) { return { name, columns: [] }; },
    async createTable() {}, async addColumns() {}, async dropTable() {},
    withRows: () => { throw new Error('unused'); }, withFile: () => { throw new Error('unused'); }, exportQuery: () => { throw new Error('unused'); },
    async close() {},
  };
}

describe.skipIf(unavailable !== null)('training SQL is valid BigQuery (ZetaSQL analyzer)', () => {
  let analyzer: Analyzer;
  beforeAll(async () => { analyzer = await startAnalyzer(); });
  afterAll(async () => { await analyzer?.stop(); });

  it('spine query, run claim, run updates and reads all analyze with their parameter types', async () => {
    const w = recordingWarehouse();
    const q = spineQuery(w, repo, model, { start: new Date('2001-03-01T00:00:00Z'), end: new Date('2001-04-01T00:00:00Z') });
    w.statements.push({ sql: q.sql, params: q.params });
    await labelledDataEnd({ warehouse: w, repo }, model);
    await claimRun(w, { runId: 'r', model: 'flight_delay', requestKey: 'k', requestEventId: 'e', correlationId: 'c', trigger: 'manual', backend: 'vertex', codeVersion: 'v', now: new Date() });
    await recordPrepared(w, 'r', { params: {}, datasets: {}, baselineUri: 'gs://b/x', logsUri: 'gs://b/l', modelUri: 'gs://b/m/' });
    await recordLaunched(w, 'r', { jobId: 'j', at: new Date(), deadline: new Date() });
    await recordFinished(w, 'r', { state: 'FAILED', at: new Date(), metrics: {}, error: 'e', modelUri: null, completionEventId: 'x' });
    await findRunByJob(w, 'j');
    await listRuns(w, { model: 'flight_delay', unfinished: true, limit: 5 });
    expect(w.statements.length).toBeGreaterThanOrEqual(9);
    for (const s of w.statements) {
      const params = Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, v.type as ParamType]));
      const r = await analyzer.analyze(s.sql, { tables, params });
      expect(r, `${s.sql}\n→ ${JSON.stringify(r)}`).toMatchObject({ ok: true });
    }
  });
});
