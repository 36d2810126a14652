import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors.js';
import type { ColumnSchema, ColumnType } from '../ports/warehouse.js';
import { isIdentifier } from '../sql/identifiers.js';
import { didYouMean } from '../closest.js';

/**
 * Feature definitions: one declarative file (YAML or JSON) with entities, feature views and feature services.
 * Every name that becomes a table or column is a validated identifier.
 */

/**
 * Every object of the file is strict: an unknown key (a typo such as `tll:` for `ttl:`) is an error naming the closest
 * valid key, never silently dropped (which would leave ttl at 0, no limit).
 */
function strict<S extends z.ZodRawShape>(shape: S) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      return iss.keys.map((k) => {
        const hint = didYouMean(k, valid);
        return `unknown key "${k}"${hint || `; valid keys here: ${valid.join(', ')}`}`;
      }).join('; ');
    },
  });
}

const ident = (what: string) =>
  z.string().refine(isIdentifier, { message: `${what} must be an identifier (letters, digits, _; not a SQL keyword)` });

const featureType = z.preprocess(
  (v) => (typeof v === 'string' ? v.toUpperCase() : v),
  z.enum(['STRING', 'INT64', 'FLOAT64', 'BOOL', 'TIMESTAMP']),
);
export type FeatureType = z.infer<typeof featureType>;

/** Durations: seconds as a number, or "90s", "15m", "6h", "7d", "2w". 0 = no limit. */
const duration = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(s|m|h|d|w)$/, 'duration must look like 30s, 15m, 6h, 7d or 2w').transform((s) => {
    const n = Number(s.slice(0, -1));
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[s.slice(-1) as 's'];
    return n * unit;
  }),
], { error: 'duration must look like 30s, 15m, 6h, 7d or 2w (or a number of seconds)' });

const joinKey = strict({ name: ident('join key'), type: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(['STRING', 'INT64'])) });

const entity = strict({
  name: ident('entity name'),
  joinKeys: z.array(joinKey).min(1),
  description: z.string().optional(),
});

const feature = strict({
  name: ident('feature name'),
  type: featureType,
  description: z.string().optional(),
});

const featureView = strict({
  name: ident('feature view name'),
  entity: ident('entity'),
  /** Warehouse table; defaults to fv_<name>. */
  table: ident('table').optional(),
  timestampField: ident('timestamp field').default('event_timestamp'),
  /** Optional created-time column from the source; when absent the ingest time is the created time. */
  createdTimestampField: ident('created timestamp field').optional(),
  ttl: duration.default(0),
  features: z.array(feature).min(1),
  /** What to do with fields that are not keys, timestamps or features: quarantine the row, or ignore the field. */
  onUnknownFields: z.enum(['reject', 'ignore']).default('reject'),
  description: z.string().optional(),
});

const featureService = strict({
  name: ident('feature service name'),
  features: z.array(z.string().regex(/^[A-Za-z_]\w*:[A-Za-z_]\w*$/, 'features are listed as view:feature')).min(1),
  description: z.string().optional(),
});

export const featureRepoSchema =
  strict({
    entities: z.array(entity).min(1),
    featureViews: z.array(featureView).min(1),
    featureServices: z.array(featureService).default([]),
  })
  .superRefine((repo, ctx) => {
    const dup = (names: string[], what: string, path: string) => {
      const seen = new Set<string>();
      names.forEach((n, i) => {
        if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [path, i, 'name'], message: `duplicate ${what} "${n}"` });
        seen.add(n);
      });
    };
    dup(repo.entities.map((e) => e.name), 'entity', 'entities');
    dup(repo.featureViews.map((v) => v.name), 'feature view', 'featureViews');
    dup(repo.featureViews.map((v) => v.table ?? `fv_${v.name}`), 'table', 'featureViews');
    dup(repo.featureServices.map((s) => s.name), 'feature service', 'featureServices');
    const entities = new Map(repo.entities.map((e) => [e.name, e]));
    repo.featureViews.forEach((v, i) => {
      const e = entities.get(v.entity);
      if (!e) {
        ctx.addIssue({ code: 'custom', path: ['featureViews', i, 'entity'], message: `unknown entity "${v.entity}"` });
        return;
      }
      const cols = [...e.joinKeys.map((k) => k.name), v.timestampField, ...(v.createdTimestampField ? [v.createdTimestampField] : []), ...v.features.map((f) => f.name)];
      const seen = new Set<string>();
      for (const c of cols) {
        if (seen.has(c.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['featureViews', i], message: `column "${c}" appears twice in view "${v.name}" (keys, timestamps and features share one table)` });
        if (c.startsWith('_')) ctx.addIssue({ code: 'custom', path: ['featureViews', i], message: `column "${c}" starts with _, which is reserved for system columns` });
        seen.add(c.toLowerCase());
      }
    });
    const views = new Map(repo.featureViews.map((v) => [v.name, v]));
    repo.featureServices.forEach((s, i) =>
      s.features.forEach((ref, j) => {
        const [vn, fn] = ref.split(':') as [string, string];
        const v = views.get(vn);
        if (!v) ctx.addIssue({ code: 'custom', path: ['featureServices', i, 'features', j], message: `unknown feature view "${vn}"` });
        else if (!v.features.some((f) => f.name === fn)) ctx.addIssue({ code: 'custom', path: ['featureServices', i, 'features', j], message: `view "${vn}" has no feature "${fn}"` });
      }),
    );
  });

export type FeatureRepoInput = z.input<typeof featureRepoSchema>;
type RawRepo = z.infer<typeof featureRepoSchema>;
export type EntityDef = RawRepo['entities'][number];
export type FeatureDef = RawRepo['featureViews'][number]['features'][number];

/** A resolved feature view: its entity's join keys inlined and its table name settled. */
export interface FeatureView {
  name: string;
  entity: EntityDef;
  table: string;
  timestampField: string;
  createdTimestampField: string | undefined;
  ttlSeconds: number;
  features: FeatureDef[];
  onUnknownFields: 'reject' | 'ignore';
  description: string | undefined;
}

export interface FeatureRepo {
  entities: EntityDef[];
  views: FeatureView[];
  services: RawRepo['featureServices'];
  view(name: string): FeatureView;
  service(name: string): RawRepo['featureServices'][number];
}

/** System columns every offline table carries besides keys, event time and features. */
export const SYSTEM_COLUMNS = {
  created: '_created_ts',
  ingestId: '_ingest_id',
  ingestedAt: '_ingested_at',
} as const;

export function parseFeatureRepo(raw: unknown, source = 'feature definitions'): FeatureRepo {
  const res = featureRepoSchema.safeParse(raw);
  if (!res.success) {
    // An unknown key is reported at its own path (featureViews[0].tll), not at the object holding it; a required
    // key reported missing because it was misspelt (join_keys for joinKeys) is said once, as the misspelling.
    const unknown = res.error.issues.filter((i) => i.code === 'unrecognized_keys');
    const absent = (path: PropertyKey[]) => path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), raw) === undefined;
    const misspelt = (i: z.core.$ZodIssue) => i.path.length > 0 && absent(i.path) && unknown.some((u) =>
      u.path.length === i.path.length - 1 && u.path.every((p, n) => p === i.path[n]) && u.keys.some((k) => didYouMean(k, [String(i.path.at(-1))]) !== ''));
    const issues = res.error.issues
      .filter((i) => !misspelt(i))
      .map((i) => (i.code === 'unrecognized_keys' && i.keys.length === 1 ? { ...i, path: [...i.path, i.keys[0]!] } : i));
    throw new ValidationError(`${source} are invalid:\n${z.prettifyError(new z.ZodError(issues))}`, {
      hint: 'fix the file; see features.yaml in the repository root for a complete example',
      details: { issues: res.error.issues },
    });
  }
  const repo = res.data;
  const entities = new Map(repo.entities.map((e) => [e.name, e]));
  const views: FeatureView[] = repo.featureViews.map((v) => {
    const table = v.table ?? `fv_${v.name}`;
    return {
      name: v.name,
      entity: entities.get(v.entity)!,
      table,
      timestampField: v.timestampField,
      createdTimestampField: v.createdTimestampField,
      ttlSeconds: v.ttl,
      features: v.features,
      onUnknownFields: v.onUnknownFields,
      description: v.description,
    };
  });
  const byName = new Map(views.map((v) => [v.name, v]));
  return {
    entities: repo.entities,
    views,
    services: repo.featureServices,
    view(name) {
      const v = byName.get(name);
      if (!v) throw new NotFoundError(`feature view "${name}" is not defined`, { hint: `defined views: ${[...byName.keys()].join(', ')}` });
      return v;
    },
    service(name) {
      const s = repo.featureServices.find((x) => x.name === name);
      if (!s) throw new NotFoundError(`feature service "${name}" is not defined`, { hint: `defined services: ${repo.featureServices.map((x) => x.name).join(', ') || '(none)'}` });
      return s;
    },
  };
}

export async function loadFeatureRepo(path: string): Promise<FeatureRepo> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new NotFoundError(`cannot read feature definitions at ${path}`, { hint: 'set CTLOOP_FEATURES to your definitions file', cause: err });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ValidationError(`cannot parse ${path}: ${(err as Error).message}`, { hint: 'check the YAML/JSON syntax at the position given' });
  }
  return parseFeatureRepo(raw, path);
}

/** Offline table columns of a view: keys, event time, features, system columns. Order is stable. */
export function offlineColumns(v: FeatureView): ColumnSchema[] {
  return [
    ...v.entity.joinKeys.map((k): ColumnSchema => ({ name: k.name, type: k.type as ColumnType, mode: 'REQUIRED', description: `join key of entity ${v.entity.name}` })),
    { name: v.timestampField, type: 'TIMESTAMP', mode: 'REQUIRED', description: 'event time' },
    ...v.features.map((f): ColumnSchema => ({ name: f.name, type: f.type, mode: 'NULLABLE', ...(f.description ? { description: f.description } : {}) })),
    { name: SYSTEM_COLUMNS.created, type: 'TIMESTAMP', mode: 'REQUIRED', description: v.createdTimestampField ? `source created time (${v.createdTimestampField})` : 'ingest time (the view has no created-time column)' },
    { name: SYSTEM_COLUMNS.ingestId, type: 'STRING', mode: 'REQUIRED', description: 'event id + row index; deduplication key' },
    { name: SYSTEM_COLUMNS.ingestedAt, type: 'TIMESTAMP', mode: 'REQUIRED', description: 'when ctloop wrote the row' },
  ];
}
