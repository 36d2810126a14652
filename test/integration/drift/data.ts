import type { FeatureView } from '../../../shared/features/definitions.js';
import { offlineColumns } from '../../../shared/features/definitions.js';
import type { Row, Warehouse } from '../../../shared/ports/warehouse.js';

/** Deterministic pseudo-random numbers (mulberry32) so the drift tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(r: () => number, mean: number, sd: number): number {
  const u = Math.max(r(), 1e-12);
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export interface RouteRowsSpec {
  start: Date;
  days: number;
  n: number;
  seed: number;
  delayMean: number;
  flightsMax: number;
  notes: string[];
}

/** route_stats rows: avg_delay FLOAT64, flights INT64, note STRING, spread over the window. */
export function routeRows(s: RouteRowsSpec): Row[] {
  const r = rng(s.seed);
  const span = s.days * 86_400_000;
  return Array.from({ length: s.n }, (_, i) => ({
    origin: `O${i % 17}`, dest: `D${i % 5}`, event_ts: new Date(s.start.getTime() + Math.floor((i / s.n) * span)),
    avg_delay: Math.round(normal(r, s.delayMean, 3) * 100) / 100, flights: Math.floor(r() * s.flightsMax),
    note: s.notes[Math.floor(r() * s.notes.length)]!,
    _created_ts: s.start, _ingest_id: `seed${s.seed}:${i}`, _ingested_at: s.start,
  }));
}

export async function insertRows(w: Warehouse, view: FeatureView, rows: Row[]): Promise<void> {
  const cols = offlineColumns(view);
  await w.withRows(cols, rows, (rel) =>
    w.execute(`INSERT INTO ${w.dialect.table(view.table)} (${cols.map((c) => w.dialect.ident(c.name)).join(', ')}) SELECT ${cols.map((c) => w.dialect.ident(c.name)).join(', ')} FROM ${rel.sql}`, { params: rel.params }));
}
