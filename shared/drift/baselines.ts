import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors.js';
import type { FeatureView } from '../features/definitions.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { assertIdentifier } from '../sql/identifiers.js';
import { computeBaselineProfile, type BaselineOptions } from './baseline-profile.js';
import { checkConfig } from './options.js';
import { kindOfType, type Profile, type TimeWindow } from './profile.js';
import type { FeatureSpec } from './profile-sql.js';
import { offlineUnique } from '../features/dedup-sql.js';

/**
 * Baselines: versioned, write-once JSON artifacts holding a training window's profile.
 * `gs://<bucket>/drift/baselines/<name>/v<N>.json`, id `<name>@v<N>`. Registered explicitly for a view
 * (`ctloop drift baseline`), or written next to a model by training (any URI; `loadBaseline` accepts one).
 */
export interface Baseline {
  id: string;
  name: string;
  version: number;
  uri: string;
  view: string;
  model: string | null;
  window: TimeWindow;
  createdAt: string;
  profile: Profile;
}

export function baselinePrefix(bucket: string, name: string): string {
  return `gs://${bucket}/drift/baselines/${name}/`;
}

/** Features of a view that drift detection profiles (timestamps are not compared). */
export function viewFeatureSpecs(view: FeatureView): FeatureSpec[] {
  return view.features.flatMap((f) => {
    const kind = kindOfType(f.type);
    return kind ? [{ name: f.name, type: f.type, kind }] : [];
  });
}

function versionOf(uri: string): number | null {
  const m = /\/v(\d+)\.json$/.exec(uri);
  return m ? Number(m[1]) : null;
}

export async function listBaselines(store: ObjectStore, bucket: string, name: string): Promise<{ uri: string; version: number }[]> {
  const objs = await store.list(baselinePrefix(bucket, name));
  return objs.flatMap((o) => {
    const v = versionOf(o.uri);
    return v === null ? [] : [{ uri: o.uri, version: v }];
  }).sort((a, b) => a.version - b.version);
}

export interface RegisterRequest {
  view: FeatureView;
  from: Date;
  to: Date;
  /** Artifact name; defaults to the view name. */
  name?: string;
  model?: string;
  options?: BaselineOptions;
}

/** Profile a view's window and store it as the next version of the named baseline. */
export async function registerBaseline(deps: { warehouse: Warehouse; objectStore: ObjectStore; bucket: string }, req: RegisterRequest): Promise<Baseline> {
  if (!(req.from.getTime() < req.to.getTime())) {
    throw new ValidationError(`baseline window is empty: --from ${req.from.toISOString()} is not before --to ${req.to.toISOString()}`, { hint: 'pass --from earlier than --to' });
  }
  checkConfig(req.options, ['quantileBins', 'maxValueBins', 'maxCategories'], 'options');
  const name = assertIdentifier(req.name ?? req.view.name, 'baseline name');
  const w = deps.warehouse;
  const profile = await computeBaselineProfile(w, {
    relation: w.dialect.table(req.view.table), timestampColumn: req.view.timestampField,
    window: { start: req.from, end: req.to }, label: req.view.table, unique: offlineUnique(w),
  }, viewFeatureSpecs(req.view), req.options);
  if (profile.rows === 0) {
    throw new ValidationError(`view ${req.view.name} has no rows between ${req.from.toISOString()} and ${req.to.toISOString()}`, {
      hint: 'ingest features for that window first, or choose a window that has data',
    });
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const versions = await listBaselines(deps.objectStore, deps.bucket, name);
    const version = (versions.at(-1)?.version ?? 0) + 1;
    const uri = `${baselinePrefix(deps.bucket, name)}v${version}.json`;
    const baseline: Baseline = {
      id: `${name}@v${version}`, name, version, uri, view: req.view.name, model: req.model ?? null,
      window: { start: req.from.toISOString(), end: req.to.toISOString() }, createdAt: new Date().toISOString(), profile,
    };
    const body = JSON.stringify(baseline);
    try {
      await deps.objectStore.put(uri, body, { contentType: 'application/json', ifNotExists: true });
      return baseline;
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      // The client library retries the create; when the first attempt committed and its response was lost, the
      // retry is refused as "already exists". Same bytes (this call's createdAt is part of them) → our own write.
      if (await holds(deps.objectStore, uri, body)) return baseline;
    }
  }
  throw new ValidationError(`could not allocate a version for baseline ${name}: too many concurrent registrations`, { hint: 'retry' });
}

/** True when the object exists and holds exactly `body`. */
async function holds(store: ObjectStore, uri: string, body: string): Promise<boolean> {
  try {
    return (await store.get(uri)).toString('utf8') === body;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/** Load a baseline by gs:// URI, `name@vN`, or `name` (latest version). */
export async function loadBaseline(store: ObjectStore, bucket: string, ref: string): Promise<Baseline> {
  let uri: string;
  if (ref.startsWith('gs://')) uri = ref;
  else {
    const [name, v] = ref.split('@v') as [string, string | undefined];
    assertIdentifier(name, 'baseline name');
    const versions = await listBaselines(store, bucket, name);
    const hit = v === undefined ? versions.at(-1) : versions.find((x) => x.version === Number(v));
    if (!hit) {
      throw new NotFoundError(`no baseline ${ref} is registered`, {
        hint: `register one with \`ctloop drift baseline --view ${name} --from <start> --to <end>\`${versions.length ? ` (versions: ${versions.map((x) => x.version).join(', ')})` : ''}`,
      });
    }
    uri = hit.uri;
  }
  if (!(await store.exists(uri))) throw new NotFoundError(`baseline ${uri} does not exist`, { hint: 'check the baseline URI, or register one with `ctloop drift baseline`' });
  const b = JSON.parse((await store.get(uri)).toString('utf8')) as Baseline;
  if (!b.profile?.features) throw new ValidationError(`${uri} is not a ctloop baseline`, { hint: 'pass a baseline written by `ctloop drift baseline` or by training' });
  return b;
}
