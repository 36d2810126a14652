import { describe, expect, it } from 'vitest';
import { toBusError } from '../../shared/adapters/event-bus/pubsub/topology.js';
import { mapGcsError } from '../../shared/adapters/object-store/gcs/errors.js';
import { isPermanent, TransientError } from '../../shared/errors.js';

/**
 * Failures that clear up on their own are retried (a bounded number of times: Pub/Sub redelivers a transient
 * failure up to maxDeliveryAttempts, then it is dead-lettered with the reason), not dead-lettered at once:
 * a 403 / PERMISSION_DENIED just after a role was granted (IAM changes take minutes to propagate,
 * https://cloud.google.com/iam/docs/access-change-propagation) and @google-cloud/storage's
 * CONTENT_DOWNLOAD_MISMATCH, whose own message says to try downloading again.
 */
describe('transient or permanent', () => {
  it('Cloud Storage 403 is retried, and the hint still says which role to grant', () => {
    const err = mapGcsError(Object.assign(new Error('caller does not have storage.objects.get access'), { code: 403 }), 'gs://b/o', 'get');
    expect(err).toBeInstanceOf(TransientError);
    expect(isPermanent(err)).toBe(false);
    expect(err.hint).toMatch(/roles\/storage\.objectAdmin/);
    expect(err.hint).toMatch(/propagat/);
  });

  it('CONTENT_DOWNLOAD_MISMATCH is retried', () => {
    const lib = Object.assign(new Error('The downloaded data did not match the data from the server. To be sure the content is the same, you should download the file again.'), { code: 'CONTENT_DOWNLOAD_MISMATCH' });
    const err = mapGcsError(lib, 'gs://b/o', 'download');
    expect(err).toBeInstanceOf(TransientError);
    expect(err.details).toMatchObject({ code: 'CONTENT_DOWNLOAD_MISMATCH' });
  });

  it('Pub/Sub PERMISSION_DENIED is retried, and the hint says which role to grant', () => {
    const err = toBusError(Object.assign(new Error('7 PERMISSION_DENIED: User not authorized'), { code: 7 }), 'publishing to t', 'pubsub.googleapis.com');
    expect(err).toBeInstanceOf(TransientError);
    expect(err.hint).toMatch(/roles\/pubsub/);
  });

  it('401 (no credentials) stays permanent', () => {
    expect(isPermanent(mapGcsError(Object.assign(new Error('Unauthorized'), { code: 401 }), 'gs://b/o', 'get'))).toBe(true);
  });
});
