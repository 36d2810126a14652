import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { expectExactProfile } from './exact-counts.js';

/** The one-scan profile on DuckDB counts exactly like the in-memory count, edge cases included. */
describe('one-scan profile counts on DuckDB', () => {
  let w: Warehouse;
  beforeAll(async () => { w = await createDuckDbWarehouse({ path: ':memory:' }); });
  afterAll(async () => { await w?.close(); });

  it('matches countIntoBins on edges, ±0, subnormals, NaN, ±Inf, NULL and unlisted values', async () => {
    await expectExactProfile(w);
  });
});
