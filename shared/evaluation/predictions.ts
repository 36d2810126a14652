import { didYouMean } from '../closest.js';
import { ValidationError } from '../errors.js';
import { CsvRecordParser } from '../features/csv-records.js';

/**
 * The trainer's `predictions.csv` on the test split: `row_id`, `label` (0/1), `score` (the candidate's probability),
 * `baseline_score` (the champion's, on the same rows, when a champion was passed in), then the slice columns.
 * Every row is checked: a bad label or score, a duplicate row id or a missing column is a ValidationError naming the
 * line — a row is never dropped silently, since that would change the metrics.
 */
export interface Predictions {
  rowIds: string[];
  labels: number[];
  scores: number[];
  /** The champion's scores on the same rows, or null when the file has no baseline_score column. */
  baselineScores: number[] | null;
  /** Slice column → value per row (null for an empty field). */
  slices: Record<string, (string | null)[]>;
}

const MAX_ERRORS = 5;

function probability(v: string | null): number | null {
  if (v === null || v.trim() === '') return null;
  const x = Number(v);
  return Number.isFinite(x) && x >= 0 && x <= 1 ? x : null;
}

function label(v: string | null): number | null {
  if (v === null) return null;
  const x = Number(v.trim());
  return x === 0 || x === 1 ? x : null;
}

export function parsePredictions(text: string, sliceColumns: readonly string[], source = 'predictions.csv'): Predictions {
  const parser = new CsvRecordParser();
  const records = [...parser.push(text), ...parser.end()];
  const header = records[0];
  if (!header || !('fields' in header)) {
    throw new ValidationError(`${source} has no header`, { hint: 'the trainer must write a CSV with header row_id,label,score[,baseline_score],<slice columns>' });
  }
  const names = header.fields.map((f) => f ?? '');
  const col = (name: string, required: boolean): number => {
    const i = names.indexOf(name);
    if (i < 0 && required) {
      throw new ValidationError(`${source} has no column "${name}"${didYouMean(name, names)}`, {
        hint: `columns found: ${names.join(', ')}; the trainer must write row_id, label, score[, baseline_score] and every slice column of the model (${sliceColumns.join(', ') || 'none'})`,
      });
    }
    return i;
  };
  const [iRow, iLabel, iScore, iBase] = [col('row_id', true), col('label', true), col('score', true), col('baseline_score', false)];
  const iSlices = sliceColumns.map((s) => [s, col(s, true)] as const);
  const out: Predictions = { rowIds: [], labels: [], scores: [], baselineScores: iBase >= 0 ? [] : null, slices: Object.fromEntries(sliceColumns.map((s) => [s, []])) };
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const r of records.slice(1)) {
    if (errors.length >= MAX_ERRORS) break;
    if (!('fields' in r)) {
      errors.push(`line ${r.line}: ${r.error}`);
      continue;
    }
    const f = r.fields;
    const id = f[iRow];
    const y = label(f[iLabel] ?? null);
    const s = probability(f[iScore] ?? null);
    const b = iBase >= 0 ? probability(f[iBase] ?? null) : 0;
    if (id === null || id === undefined || id === '') errors.push(`line ${r.line}: row_id is empty`);
    else if (seen.has(id)) errors.push(`line ${r.line}: row_id ${id} appears twice`);
    else if (y === null) errors.push(`line ${r.line}: label ${JSON.stringify(f[iLabel])} is not 0 or 1`);
    else if (s === null) errors.push(`line ${r.line}: score ${JSON.stringify(f[iScore])} is not a probability in [0, 1]`);
    else if (b === null) errors.push(`line ${r.line}: baseline_score ${JSON.stringify(f[iBase])} is not a probability in [0, 1]`);
    else {
      seen.add(id);
      out.rowIds.push(id);
      out.labels.push(y);
      out.scores.push(s);
      if (out.baselineScores) out.baselineScores.push(b);
      for (const [name, i] of iSlices) out.slices[name]!.push(f[i] ?? null);
    }
  }
  if (errors.length) {
    throw new ValidationError(`${source} has bad rows: ${errors.join('; ')}${errors.length >= MAX_ERRORS ? '; …' : ''}`, {
      hint: 'fix the trainer so that every test row has a unique row_id, a 0/1 label and scores in [0, 1]', details: { errors },
    });
  }
  if (out.rowIds.length === 0) throw new ValidationError(`${source} has no rows`, { hint: 'the test split was empty: widen the test window in models.yaml' });
  return out;
}
