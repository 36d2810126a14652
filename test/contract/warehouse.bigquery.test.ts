import { readFile } from 'node:fs/promises';
import { describe, it } from 'vitest';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';
import { runWarehouseContract } from './warehouse.contract.js';

// The BigQuery adapter against the local REST stand-in: every statement is checked by the ZetaSQL analyzer
// (BigQuery language options) before DuckDB executes it, so SQL that BigQuery would reject fails here.
const unavailable = analyzerUnavailableReason();
if (unavailable) {
  console.warn(`skipping the BigQuery warehouse contract: ${unavailable}`);
  describe.skipIf(!!unavailable)(`warehouse contract: bigquery (stand-in + ZetaSQL): ${unavailable}`, () => { it('needs the ZetaSQL analyzer', () => {}); });
} else {
  runWarehouseContract('bigquery (stand-in + ZetaSQL)', async () => {
    const bq: BigQueryTestWarehouse = await startBigQueryTestWarehouse();
    return {
      warehouse: bq.warehouse,
      fileUri: (p) => bq.upload(p),
      exportUri: (name) => `gs://ctloop-test/exports/${Date.now()}/${name}`,
      readExport: (uri) => readFile(bq.standin.localPath(uri)),
      cleanup: () => bq.cleanup(),
    };
  });
}
