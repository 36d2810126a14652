import type { FeatureRepo, FeatureView } from '../features/definitions.js';
import { SYSTEM_COLUMNS } from '../features/definitions.js';
import type { ModelSpec } from '../models/config.js';
import type { Params, Warehouse } from '../ports/warehouse.js';
import type { Window } from './windows.js';

export interface SpineQuery {
  sql: string;
  params: Params;
  view: FeatureView;
  /** Row id column passed to the trainer (the spine view's join key). */
  rowId: string;
  columns: string[];
}

/**
 * The labelled examples of one window: the spine view's rows with a label whose event time is in [start, end), one
 * per entity (the latest written version wins, so a re-delivered or corrected row is counted once), with the derived
 * join keys the feature service's views need (`spine.keys`).
 */
export function spineQuery(w: Warehouse, repo: FeatureRepo, model: ModelSpec, window: Window): SpineQuery {
  const d = w.dialect;
  const view = repo.view(model.spine.view);
  const keys = view.entity.joinKeys.map((k) => k.name);
  const features = model.spine.features ?? view.features.map((f) => f.name).filter((f) => f !== model.spine.label);
  const ts = view.timestampField;
  const derived = Object.entries(model.spine.keys);
  const cols = [...keys, ts, ...features.filter((f) => !keys.includes(f)), model.spine.label];
  const select = [...cols.map((c) => d.ident(c)), ...derived.map(([as, from]) => `${d.ident(from)} AS ${d.ident(as)}`)].join(', ');
  const sql = `SELECT ${select} FROM ${d.table(view.table)}
WHERE ${d.ident(ts)} >= ${d.param('start')} AND ${d.ident(ts)} < ${d.param('end')} AND ${d.ident(model.spine.label)} IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY ${keys.map((k) => d.ident(k)).join(', ')} ORDER BY ${d.ident(SYSTEM_COLUMNS.created)} DESC, ${d.ident(SYSTEM_COLUMNS.ingestedAt)} DESC) = 1
ORDER BY ${d.ident(ts)}, ${keys.map((k) => d.ident(k)).join(', ')}`;
  return {
    sql,
    params: { start: { type: 'TIMESTAMP', value: window.start }, end: { type: 'TIMESTAMP', value: window.end } },
    view,
    rowId: keys.join('_'),
    columns: [...cols, ...derived.map(([as]) => as)],
  };
}
