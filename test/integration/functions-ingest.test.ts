import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { TransientError } from '../../shared/errors.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';

/**
 * ingest-features and load-feature-file under functions-framework, in-process: raw Pub/Sub push bodies (as the
 * emulator and Pub/Sub push them) become CloudEvents, the function acks (2xx) what is done or permanently bad
 * (dead-lettered with its reason) and fails (5xx → redelivery) on transient errors.
 */
describe('functions under functions-framework', () => {
  let dir: string;
  let rt: Runtime;
  const env = { ...process.env };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-fn-'));
    const features = join(dir, 'features.yaml');
    await writeFile(features, stringify(testRepoInput));
    Object.assign(process.env, { CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: features });
    await import('../../functions/ingest-features/index.js');
    await import('../../functions/load-feature-file/index.js');
    const { processRuntime } = await import('../../shared/runtime/runtime.js');
    rt = await processRuntime();
    const { applyFeatureRepo } = await import('../../shared/features/apply.js');
    await applyFeatureRepo(rt.warehouse, rt.repo);
  });
  afterAll(async () => {
    await rt?.close();
    process.env = env;
    await rm(dir, { recursive: true, force: true });
  });

  const push = (entryPoint: string, topic: string, body: unknown, messageId: string) =>
    supertest(getTestServer(entryPoint))
      .post(`/projects/ctloop-local/topics/${topic}`)
      .send({
        subscription: `projects/ctloop-local/subscriptions/${topic}-push`,
        message: { data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64'), messageId, publishTime: '2001-03-02T00:00:00Z', attributes: {} },
      });
  const count = async (table: string) => Number((await rt.warehouse.query(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table(table)}`))[0]!.n);

  it('stores a batch once across 5 deliveries and quarantines its poison rows', async () => {
    const ev = createEvent('featureRows', {
      view: 'route_stats',
      rows: [
        { origin: 'SFO', dest: 'LAX', event_ts: '2001-03-01T10:00:00Z', avg_delay: 4.5, flights: 3 },
        { origin: 'SFO', dest: 'JFK', event_ts: '2001-03-01T11:00:00Z', avg_delay: 'late' },
        { origin: 'OAK', dest: 'LAX', event_ts: '2001-03-01T12:00:00Z', flights: 1 },
        null,
      ],
    }, { source: 'test' });
    for (let i = 0; i < 5; i++) await push('ingestFeatures', catalog.featureRows.topic, ev, `m-${i}`).expect(204);
    expect(await count('fv_route_stats')).toBe(2);
    expect(await count('_quarantine')).toBe(2);
    const q = await rt.warehouse.query(`SELECT reason, event_id, raw FROM ${rt.warehouse.dialect.table('_quarantine')} ORDER BY ingest_id`);
    expect(q).toEqual([
      { reason: 'avg_delay: expected FLOAT64, got "late"', event_id: ev.id, raw: JSON.stringify(ev.data.rows[1]) },
      { reason: 'row is not an object', event_id: ev.id, raw: 'null' },
    ]);
  });

  it('acks and dead-letters a message that is not a valid event, with its reason', async () => {
    await push('ingestFeatures', catalog.featureRows.topic, 'not json at all', 'bad-1').expect(204);
    await push('ingestFeatures', catalog.featureRows.topic, { id: 'x', type: 'ctloop.feature.rows.v1', time: '2001-01-01T00:00:00Z', source: 's', correlationId: 'x', causationId: null, data: { view: 'route_stats', rows: [] } }, 'bad-2').expect(204);
    const letters = await rt.objectStore.list(`gs://${rt.config.artifactBucket}/dead-letter/ingest-features/`);
    expect(letters.map((l) => l.uri.split('/').pop())).toEqual(['bad-1.json', 'bad-2.json']);
    const rec = JSON.parse((await rt.objectStore.get(letters[1]!.uri)).toString());
    expect(rec).toMatchObject({ consumer: 'ingest-features', code: 'VALIDATION_FAILED', messageId: 'bad-2' });
    expect(rec.reason).toMatch(/rows/);
  });

  it('returns 500 on a transient warehouse failure so Pub/Sub redelivers, and the retry succeeds', async () => {
    const spy = vi.spyOn(rt.warehouse, 'execute').mockRejectedValueOnce(new TransientError('warehouse unavailable'));
    const ev = createEvent('featureRows', { view: 'route_stats', rows: [{ origin: 'X', dest: 'Y', event_ts: '2001-03-01T00:00:00Z' }] }, { source: 'test' });
    await push('ingestFeatures', catalog.featureRows.topic, ev, 't-1').expect(500);
    spy.mockRestore();
    await push('ingestFeatures', catalog.featureRows.topic, ev, 't-1').expect(204);
    expect(Number((await rt.warehouse.query(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table('fv_route_stats')} WHERE origin = 'X'`))[0]!.n)).toBe(1);
  });

  it('loads a file named by a file-ready event, idempotently', async () => {
    const file = join(dir, 'rows.jsonl');
    await writeFile(file, ['{"origin":"F","dest":"G","event_ts":"2001-03-01T00:00:00Z","avg_delay":1}', '{not json', '{"origin":"F","dest":"H","event_ts":"2001-03-01T00:00:00Z"}'].join('\n'));
    const uri = `gs://${rt.config.artifactBucket}/incoming/rows.jsonl`;
    await rt.objectStore.upload(file, uri);
    const ev = createEvent('featureFileReady', { view: 'route_stats', uri }, { source: 'test' });
    await push('loadFeatureFile', catalog.featureFileReady.topic, ev, 'f-1').expect(204);
    await push('loadFeatureFile', catalog.featureFileReady.topic, ev, 'f-2').expect(204);
    expect(Number((await rt.warehouse.query(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table('fv_route_stats')} WHERE origin = 'F'`))[0]!.n)).toBe(2);
    const q = await rt.warehouse.query(`SELECT reason FROM ${rt.warehouse.dialect.table('_quarantine')} WHERE event_id LIKE 'gs://%'`);
    expect(q).toHaveLength(1);
    expect(String(q[0]!.reason)).toMatch(/^line 2: not valid JSON/);
  });

  it('keys a file-ready object on its content: the same bytes under another name or re-uploaded load once; a bad header is dead-lettered whole', async () => {
    const body = ['origin,dest,event_ts,avg_delay', 'K,L,2001-03-01T00:00:00Z,1', 'K,M,2001-03-01T00:00:00Z,2'].join('\n');
    const bucket = rt.config.artifactBucket;
    const stored = async () => Number((await rt.warehouse.query(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table('fv_route_stats')} WHERE origin = 'K'`))[0]!.n);
    const fileReady = (uri: string, id: string) => push('loadFeatureFile', catalog.featureFileReady.topic, createEvent('featureFileReady', { view: 'route_stats', uri }, { source: 'test' }), id).expect(204);
    await rt.objectStore.put(`gs://${bucket}/incoming/k.csv`, body);
    await fileReady(`gs://${bucket}/incoming/k.csv`, 'k-1');
    await rt.objectStore.put(`gs://${bucket}/incoming/k-copy.csv`, body);
    await fileReady(`gs://${bucket}/incoming/k-copy.csv`, 'k-2');
    await rt.objectStore.put(`gs://${bucket}/incoming/k.csv`, body); // a new generation of the same bytes
    await fileReady(`gs://${bucket}/incoming/k.csv`, 'k-3');
    expect(await stored()).toBe(2);
    await rt.objectStore.put(`gs://${bucket}/incoming/k.csv`, `${body}\nK,N,2001-03-01T00:00:00Z,3`);
    await fileReady(`gs://${bucket}/incoming/k.csv`, 'k-4');
    expect(await stored()).toBe(5); // a changed file is a new version: all of its rows are new rows

    const quarantined = await count('_quarantine');
    await rt.objectStore.put(`gs://${bucket}/incoming/bad-header.csv`, body.replace('origin,', 'orign,').replace(/^K/gm, 'Q'));
    await fileReady(`gs://${bucket}/incoming/bad-header.csv`, 'k-5');
    const letters = await rt.objectStore.list(`gs://${bucket}/dead-letter/load-feature-file/`);
    const rec = JSON.parse((await rt.objectStore.get(letters.find((l) => l.uri.endsWith('/k-5.json'))!.uri)).toString());
    expect(rec).toMatchObject({ code: 'VALIDATION_FAILED', reason: expect.stringMatching(/bad-header\.csv: the header has no column "origin"/) });
    expect(await count('_quarantine')).toBe(quarantined);
  });
});
