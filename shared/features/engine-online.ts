import { randomUUID } from 'node:crypto';
import type { OnlineStore, OnlineWriteResult } from '../ports/online-store.js';
import type { Params } from '../ports/warehouse.js';
import { SYSTEM_COLUMNS as SYS, type FeatureView } from './definitions.js';
import type { IngestDeps } from './ingest.js';
import { encodedLineSql, type LineColumns } from './online-lines-sql.js';
import { onlineRecord } from './online-write.js';
import type { StepTimer } from './step-timer.js';

/**
 * The online step of a file load inside the engine (engine-load.ts): the newest good row per entity of the file
 * (event time, created time, ingest id), written once per file. A store that takes its encoded log lines (the
 * embedded store's `writeEncoded`) gets them built by DuckDB; any other store gets records through `write`.
 */
const ONLINE_PAGE = 50_000;

export interface NewestRows {
  /** Good rows: `__i` (the row number) and `__v<k>` (the values, in `viewFields` order). */
  rows: string;
  /** The same rows as offline rows (named columns, created time and ingest id), with `params`. */
  offline: string;
  params: Params;
  /** SQL of the line's parts over `rows`, the `__v` columns to carry, and whether the created time is one for all. */
  line: LineColumns & { columns: string[]; sameCreated: boolean };
}

export async function writeNewestOnline(deps: IngestDeps, view: FeatureView, src: NewestRows, step: StepTimer): Promise<void> {
  const online = deps.online;
  if (writesEncoded(online)) await step('online (newest per entity, encoded in SQL)', () => writeNewestEncoded(deps, online, view, src, step));
  else await step('online (newest per entity)', () => writeNewestRecords(deps, view, src, step));
}

/** An online store that takes records as its encoded log lines (the embedded store: `writeEncoded`). */
interface EncodedWriter {
  writeEncoded(view: FeatureView, lines: string[]): Promise<OnlineWriteResult>;
}
function writesEncoded(o: OnlineStore): o is OnlineStore & EncodedWriter {
  return typeof (o as Partial<EncodedWriter>).writeEncoded === 'function';
}

/** Newest rows encoded in SQL as the store's lines (ingest ids share the file's prefix: theirs compare as the row numbers' texts). */
async function writeNewestEncoded(deps: IngestDeps, online: EncodedWriter, view: FeatureView, src: NewestRows, step: StepTimer): Promise<void> {
  const w = deps.warehouse;
  const c = src.line;
  const name = `ld_new_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  // Rows without a created-time column share one created time: it cannot order them.
  const version = `(${c.eventTime}, ${c.sameCreated ? '' : `${c.createdTime}, `}__i::VARCHAR)`;
  // The newest row per entity in two steps: the latest event time per entity (a plain max, which DuckDB's hash
  // aggregate spills), the rows at it (a semi-join), and only among those the arg_max of the columns as a struct by the
  // full version. One arg_max over every row of a large file ran out of memory under a 256 MB limit (4M rows; its
  // states do not spill) and was slower (789 vs 543 ms for 4M rows, 200k entities). Keys and the event time are
  // plain column names of `src.rows`.
  const keep = `{${['__i', ...c.columns].map((x) => `'${x}': "${x}"`).join(', ')}}`;
  const on = [...c.keys, `${c.eventTime} = m.__m`].map((k, i) => (i < c.keys.length ? `r.${k} = m.${k}` : `r.${k}`)).join(' AND ');
  const latest = `(SELECT r.* FROM ${src.rows} AS r SEMI JOIN (SELECT ${c.keys.join(', ')}, max(${c.eventTime}) AS __m FROM ${src.rows} GROUP BY ${c.keys.join(', ')}) AS m ON ${on})`;
  await step('online: newest lines table', () => w.execute(`CREATE TEMP TABLE ${name} AS SELECT ${encodedLineSql(view, c)} AS line FROM (SELECT unnest(arg_max(${keep}, ${version})) FROM ${latest} GROUP BY ${c.keys.join(', ')})`));
  try {
    const [cnt] = await w.query(`SELECT count(*) AS n FROM temp.main.${name}`);
    for (let lo = 0; lo < Number(cnt!.n); lo += ONLINE_PAGE) {
      const [page] = await step('online: read page', () => w.query(`SELECT string_agg(line, chr(10)) AS text FROM temp.main.${name} WHERE rowid >= ${lo} AND rowid < ${lo + ONLINE_PAGE}`));
      await step('online: store write', () => online.writeEncoded(view, String(page!.text).split('\n')));
    }
  } finally {
    await w.execute(`DROP TABLE IF EXISTS temp.main.${name}`).catch(() => undefined);
  }
}

/** Newest rows as records, to the store's `write` in pages. */
async function writeNewestRecords(deps: IngestDeps, view: FeatureView, src: NewestRows, step: StepTimer): Promise<void> {
  const w = deps.warehouse;
  const d = w.dialect;
  const keys = view.entity.joinKeys.map((k) => `s.${d.ident(k.name)}`).join(', ');
  const name = `ld_new_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await step('online: newest table', () => w.execute(`CREATE TEMP TABLE ${name} AS SELECT * FROM ${src.offline} AS s QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY s.${d.ident(view.timestampField)} DESC, s.${d.ident(SYS.created)} DESC, s.${d.ident(SYS.ingestId)} DESC) = 1`, { params: src.params }));
  try {
    const [c] = await w.query(`SELECT count(*) AS n FROM temp.main.${name}`);
    for (let lo = 0; lo < Number(c!.n); lo += ONLINE_PAGE) {
      const rows = await step('online: read page', () => w.query(`SELECT * FROM temp.main.${name} WHERE rowid >= ${lo} AND rowid < ${lo + ONLINE_PAGE}`));
      const recs = rows.map((r) => onlineRecord(view, r));
      await step('online: store write', () => deps.online.write(view, recs));
    }
  } finally {
    await w.execute(`DROP TABLE IF EXISTS temp.main.${name}`).catch(() => undefined);
  }
}
