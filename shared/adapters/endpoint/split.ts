import { createHash, randomUUID } from 'node:crypto';
import { ValidationError } from '../../errors.js';

/**
 * Traffic-split arithmetic shared by the endpoint adapters, so both answer alike: whole percents summing to 100,
 * the existing split scaled down proportionally (largest remainder) when a new deployment takes its share, and a
 * per-request deterministic choice of deployed model from a hash of the request id.
 */
export type Split = Record<string, number>;

export function checkPercent(p: number, what = 'trafficPercent'): void {
  if (!Number.isInteger(p) || p < 0 || p > 100) {
    throw new ValidationError(`${what} ${p} is not a whole percent in 0..100`, { hint: 'pass an integer such as 10' });
  }
}

/** Validate a complete split against the deployed ids: known ids, whole percents, sum 100. Missing ids get 0. */
export function checkSplit(split: Split, deployedIds: readonly string[]): Split {
  const unknown = Object.keys(split).filter((id) => !deployedIds.includes(id));
  if (unknown.length > 0) {
    throw new ValidationError(`traffic split names undeployed model(s) ${unknown.join(', ')}`, { hint: `deployed: ${deployedIds.join(', ') || 'none'}` });
  }
  for (const [id, p] of Object.entries(split)) checkPercent(p, `traffic for ${id}`);
  const sum = Object.values(split).reduce((a, b) => a + b, 0);
  if (deployedIds.length > 0 && sum !== 100) throw new ValidationError(`traffic split sums to ${sum}, not 100`, { hint: 'give every deployed model its share so the shares add up to 100' });
  return Object.fromEntries(deployedIds.map((id) => [id, split[id] ?? 0]));
}

/** The split after deploying `newId` with `percent`: others scaled to 100 - percent (largest remainder, ties by id). */
export function splitWith(current: Split, newId: string, percent: number): Split {
  checkPercent(percent);
  const ids = Object.keys(current).sort();
  const total = ids.reduce((a, id) => a + (current[id] ?? 0), 0);
  if (ids.length === 0 || total === 0) return { ...Object.fromEntries(ids.map((id) => [id, 0])), [newId]: 100 };
  const rest = 100 - percent;
  const exact = ids.map((id) => ((current[id] ?? 0) * rest) / total);
  const out = exact.map(Math.floor);
  let left = rest - out.reduce((a, b) => a + b, 0);
  const order = ids.map((_, i) => i).sort((a, b) => (exact[b]! - out[b]!) - (exact[a]! - out[a]!) || (ids[a]! < ids[b]! ? -1 : 1));
  for (const i of order) {
    if (left <= 0) break;
    out[i]!++;
    left--;
  }
  return { ...Object.fromEntries(ids.map((id, i) => [id, out[i]!])), [newId]: percent };
}

/** 0..99 from the request id (and the model, so two models do not route a request id alike). */
export function bucketOf(model: string, requestId: string): number {
  return createHash('sha256').update(`${model}\u0000${requestId}`).digest().readUInt32BE(0) % 100;
}

/** The deployed model serving this request: ids in sorted order own consecutive ranges of the 100 buckets. */
export function chooseDeployed(model: string, split: Split, requestId: string = randomUUID()): string | null {
  const b = bucketOf(model, requestId);
  let acc = 0;
  const ids = Object.keys(split).sort();
  for (const id of ids) {
    acc += split[id] ?? 0;
    if (b < acc) return id;
  }
  return null;
}
