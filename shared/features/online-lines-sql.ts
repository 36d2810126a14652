import type { FeatureView } from './definitions.js';

/**
 * An online record as the embedded online store's log line (`EncodedRecord` of adapters/online-store/codec.ts:
 * `{"k":[keys],"e":event ms,"c":created ms,"i":ingest id,"v":{feature: value}}`), built by DuckDB so a file load
 * hands the store its newest rows per entity without encoding each in JavaScript. As `encodeValue`: timestamps as
 * epoch milliseconds, non-finite floats as the strings "NaN", "Infinity" and "-Infinity", NULL as null.
 * test/integration/engine-load.test.ts reads the store back against the row-by-row path's `write`.
 */
export interface LineColumns {
  /** SQL of each join key, in the view's order. */
  keys: string[];
  eventTime: string;
  createdTime: string;
  ingestId: string;
  /** SQL of each feature's stored value, by feature name. */
  features: Record<string, string>;
}

export function encodedLineSql(view: FeatureView, c: LineColumns): string {
  const values = view.features.map((f) => `'${f.name.replace(/'/g, "''")}', ${jsonValue(c.features[f.name]!, f.type)}`);
  return `json_object('k', json_array(${c.keys.join(', ')}), 'e', epoch_ms(${c.eventTime}), 'c', epoch_ms(${c.createdTime}), 'i', ${c.ingestId}, 'v', json_object(${values.join(', ')}))::VARCHAR`;
}

function jsonValue(x: string, type: string): string {
  if (type === 'TIMESTAMP') return `epoch_ms(${x})`;
  if (type === 'FLOAT64') return `CASE WHEN isnan(${x}) THEN to_json('NaN') WHEN isinf(${x}) THEN to_json(CASE WHEN ${x} > 0 THEN 'Infinity' ELSE '-Infinity' END) ELSE to_json(${x}) END`;
  return x;
}
