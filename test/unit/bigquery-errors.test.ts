import { describe, expect, it } from 'vitest';
import { mapBigQueryError } from '../../shared/adapters/warehouse/bigquery/errors.js';
import { TransientError } from '../../shared/errors.js';

describe('BigQuery error mapping', () => {
  it('blames the network, not a busy BigQuery, when there is no answer at all', () => {
    const err = Object.assign(new Error('request to https://oauth2.googleapis.com/token failed, reason: getaddrinfo ENOTFOUND oauth2.googleapis.com'), { code: 'ENOTFOUND' });
    const mapped = mapBigQueryError(err, 'get dataset ctloop');
    expect(mapped).toBeInstanceOf(TransientError);
    expect((mapped as TransientError).hint).toMatch(/^Google Cloud could not be reached \(ENOTFOUND\): check the network, DNS and any proxy/);
    const busy = mapBigQueryError({ code: 503, message: 'backend', errors: [{ reason: 'backendError' }] }, 'query');
    expect((busy as TransientError).hint).toMatch(/BigQuery is busy/);
  });
});
