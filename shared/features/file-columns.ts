import { ValidationError } from '../errors.js';
import { BadRecord } from './bad-record.js';
import { closest } from '../closest.js';
import type { FeatureView } from './definitions.js';

/**
 * Checks a file's columns (CSV header, Parquet schema) against a view before any row is read, so a file that could
 * only be quarantined row by row is refused as a whole with one clear message: a missing join key or event-time
 * column, a column named twice or not at all, or (when the view rejects unknown fields) a column the view lacks.
 */
export function checkFileColumns(view: FeatureView, columns: string[], label: string, kind: 'header' | 'schema'): void {
  const where = kind === 'header' ? 'the header' : 'the Parquet schema';
  if (columns.length === 0) {
    throw new ValidationError(`${label} is empty: it has no ${kind === 'header' ? 'header line' : 'columns'}`, { hint: `a file for view ${view.name} starts with a header naming ${expected(view)}` });
  }
  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    if (c.trim() === '') {
      throw new ValidationError(`${label}: column ${i + 1} of ${where} has no name`, { hint: `name every column (a trailing delimiter makes an empty one); expected columns: ${expected(view)}` });
    }
    const before = seen.get(c);
    if (before !== undefined) {
      throw new ValidationError(`${label}: column "${c}" appears twice in ${where} (columns ${before + 1} and ${i + 1})`, { hint: 'rename or remove one of them: a value cannot come from two columns' });
    }
    seen.set(c, i);
  });
  const present = new Set(columns);
  for (const [field, role] of required(view)) {
    if (present.has(field)) continue;
    const near = closest(field, columns.filter((c) => !known(view).has(c)), { containment: true });
    throw new ValidationError(`${label}: ${where} has no column "${field}" (the ${role} of view ${view.name}); nothing was loaded`, {
      hint: `${near ? `rename column "${near}" to "${field}"; ` : ''}expected columns: ${expected(view)}; ${where} has: ${columns.join(', ')}`,
      details: { missing: field, columns },
    });
  }
  if (view.onUnknownFields === 'reject') {
    const extra = columns.filter((c) => !known(view).has(c));
    if (extra.length > 0) {
      const near = closest(extra[0]!, [...known(view)].filter((k) => !present.has(k)), { containment: true });
      throw new ValidationError(`${label}: column${extra.length > 1 ? 's' : ''} ${extra.map((c) => `"${c}"`).join(', ')} ${extra.length > 1 ? 'are not fields' : 'is not a field'} of view ${view.name}, so every row would be quarantined; nothing was loaded`, {
        hint: `${near ? `did you mean "${near}"? ` : ''}expected columns: ${expected(view)}; or set onUnknownFields: ignore on the view to drop unknown columns`,
        details: { unknown: extra, columns },
      });
    }
  }
}

/**
 * JSON Lines have no header: a required field that no row of the first batch carries is a misnamed field, not bad
 * rows, so the file is refused before anything is written.
 */
export function checkJsonlFields(view: FeatureView, rows: unknown[], label: string): void {
  const keys = new Set<string>();
  let objects = 0;
  for (const r of rows) {
    if (r === null || typeof r !== 'object' || Array.isArray(r) || r instanceof BadRecord) continue;
    objects++;
    for (const k of Object.keys(r)) keys.add(k);
  }
  if (objects === 0) return;
  for (const [field, role] of required(view)) {
    if (keys.has(field)) continue;
    const near = closest(field, [...keys].filter((c) => !known(view).has(c)), { containment: true });
    throw new ValidationError(`${label}: no row among the first ${rows.length.toLocaleString('en-US')} has the field "${field}" (the ${role} of view ${view.name}); nothing was loaded`, {
      hint: `${near ? `rename field "${near}" to "${field}"; ` : ''}expected fields: ${expected(view)}; the rows have: ${[...keys].join(', ')}`,
      details: { missing: field, fields: [...keys] },
    });
  }
}

function required(view: FeatureView): [string, string][] {
  return [...view.entity.joinKeys.map((k): [string, string] => [k.name, 'join key']), [view.timestampField, 'event-time column']];
}

function known(view: FeatureView): Set<string> {
  return new Set([...view.entity.joinKeys.map((k) => k.name), view.timestampField, ...(view.createdTimestampField ? [view.createdTimestampField] : []), ...view.features.map((f) => f.name)]);
}

function expected(view: FeatureView): string {
  const opt = [...(view.createdTimestampField ? [view.createdTimestampField] : []), ...view.features.map((f) => f.name)];
  return `${[...required(view).map(([f]) => f)].join(', ')} (required)${opt.length > 0 ? `, ${opt.join(', ')} (optional)` : ''}`;
}
