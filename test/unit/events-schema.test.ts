import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { catalog, createEvent, eventNames } from '../../shared/events/catalog.js';
import { checkEventDocs } from '../../shared/events/schema-files.js';
import { renderEventDocs } from '../../shared/events/schema.js';

/** docs/events (JSON Schemas + AsyncAPI) is exactly what `ctloop events schema` generates from the catalog now. */
const ROOT = new URL('../..', import.meta.url).pathname;
const DOCS = join(ROOT, 'docs/events');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const tmp = mkdtempSync(join(tmpdir(), 'ctloop-events-schema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ctloop(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/ctloop.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('docs/events', () => {
  it('is not stale (run `ctloop events schema` after changing the event catalog)', async () => {
    expect(await checkEventDocs(DOCS, renderEventDocs({ version }))).toEqual([]);
  });

  it('`ctloop events schema --check` exits 0 when fresh and 1 naming the stale files when not', () => {
    const out = join(tmp, 'events');
    cpSync(DOCS, out, { recursive: true });
    expect(ctloop('events', 'schema', '--check', '--out', out)).toMatchObject({ status: 0 });
    const file = join(out, 'schemas', 'ctloop.feature.rows.v1.data.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('10000', '20000'));
    writeFileSync(join(out, 'schemas', 'ctloop.gone.v1.data.json'), '{}\n');
    const stale = ctloop('events', 'schema', '--check', '--out', out);
    expect(stale.status).toBe(1);
    expect(stale.out).toContain('schemas/ctloop.feature.rows.v1.data.json: out of date');
    expect(stale.out).toContain('schemas/ctloop.gone.v1.data.json: no longer generated');
    expect(stale.out).toContain('run `ctloop events schema`');
    expect(ctloop('events', 'schema', '--out', out).status).toBe(0);
    expect(ctloop('events', 'schema', '--check', '--out', out).status).toBe(0);
  });

  it('the JSON Schemas accept real events and refuse invalid ones', () => {
    const schema = (f: string) => new Ajv({ strict: false }).compile(JSON.parse(readFileSync(join(DOCS, 'schemas', f), 'utf8')));
    const event = createEvent('featureRows', { view: 'trips', rows: [{ trip_id: 1 }] }, { source: 'app' });
    expect(schema('ctloop.feature.rows.v1.envelope.json')(event)).toBe(true);
    expect(schema('ctloop.feature.rows.v1.data.json')(event.data)).toBe(true);
    expect(schema('ctloop.feature.rows.v1.data.json')({ view: 'trips', rows: [] })).toBe(false);
    expect(schema('ctloop.feature.rows.v1.envelope.json')({ ...event, type: 'ctloop.alert.raised.v1' })).toBe(false);
    // Defaults make fields optional for producers (canaryPercent defaults to 10).
    expect(schema('ctloop.deploy.requested.v1.data.json')({ model: 'm', version: '1' })).toBe(true);
  });

  it('the AsyncAPI document has a channel per topic with each event in its three forms, and resolvable refs', () => {
    const doc = parse(readFileSync(join(DOCS, 'asyncapi.yaml'), 'utf8')) as Record<string, any>;
    expect(doc.asyncapi).toBe('3.0.0');
    expect(Object.keys(doc.channels).sort()).toEqual([...new Set(eventNames.map((n) => catalog[n].topic))].sort());
    for (const n of eventNames) {
      const ch = doc.channels[catalog[n].topic];
      expect(ch.address).toBe(catalog[n].topic);
      expect(Object.keys(ch.messages)).toEqual(expect.arrayContaining([`${n}CloudEvent`, `${n}Envelope`, `${n}DataOnly`]));
      expect(doc.components.messages[`${n}CloudEvent`].headers.properties['ce-type'].const).toBe(catalog[n].type);
    }
    const resolve = (ref: string) => ref.slice(2).split('/').reduce((o: any, k) => o?.[k], doc);
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(resolve(r.slice(8, -1)), r).toBeDefined();
    expect(doc.operations.receiveFeatureRows).toMatchObject({ action: 'receive', channel: { $ref: '#/channels/ctloop-feature-rows' } });
  });
});
