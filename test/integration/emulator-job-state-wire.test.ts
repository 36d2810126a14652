import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PubSub } from '@google-cloud/pubsub';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireEmulatorTopology } from '../../emulators/wire.js';
import { decodePubsubCloudEvent, type IncomingCloudEvent } from '../../shared/runtime/cloud-event.js';
import { messageFunctionRegistry, RAW_TOPICS, RECONCILE_MESSAGE } from '../../shared/topology/message-functions.js';
import { waitFor } from '../contract/event-bus.contract.js';
import { pubsubEmulatorUnavailable, startPubsubEmulator, type PubsubEmulator } from '../helpers/pubsub-emulator.js';

/**
 * The emulator wiring follows the message-function registry as Terraform does: the raw Vertex AI job-state topic gets
 * a push subscription `ctloop-complete-training-push` with its dead-letter topic, and a raw `{"reconcile": true}`
 * (what the reconcile scheduler job publishes) reaches the function as a Pub/Sub CloudEvent whose body decodes to it.
 */
const unavailable = pubsubEmulatorUnavailable();
if (unavailable) console.warn(`[emulator-job-state-wire] skipping: ${unavailable}`);
const PROJECT = 'ctloop-local';

describe.skipIf(!!unavailable)('emulator wiring of complete-training (raw job-state topic)', () => {
  let emulator: PubsubEmulator | null = null;
  let server: Server;
  const received: IncomingCloudEvent[] = [];

  beforeAll(async () => {
    process.env.METADATA_SERVER_DETECTION = 'none';
    emulator = await startPubsubEmulator();
    if (!emulator) throw new Error('the Pub/Sub emulator did not start');
    const ff = await import('@google-cloud/functions-framework');
    const { getTestServer } = await import('@google-cloud/functions-framework/testing');
    ff.cloudEvent('ctloopJobStateProbe', async (ce: CloudEvent<unknown>) => void received.push(ce as unknown as IncomingCloudEvent));
    server = createServer(getTestServer('ctloopJobStateProbe').listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await emulator?.stop();
  });

  it('wires ctloop-complete-training-push on the job-state topic and delivers the reconcile message', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { wired, skipped } = await wireEmulatorTopology({
      emulatorHost: emulator!.host, project: PROJECT, retry: { maxDeliveryAttempts: 5, minBackoffMs: 100, maxBackoffMs: 500 },
      endpointFor: (f) => (f.name === 'complete-training' ? url : undefined),
    });
    expect(wired).toEqual([{
      function: 'complete-training', topic: RAW_TOPICS.vertexJobState, deadLetterTopic: `${RAW_TOPICS.vertexJobState}-dead-letter`,
      subscription: 'ctloop-complete-training-push', pushEndpoint: `${url}/projects/${PROJECT}/topics/${RAW_TOPICS.vertexJobState}`,
    }]);
    expect(skipped.length).toBeGreaterThan(0);
    expect(messageFunctionRegistry.map((m) => m.name)).toContain('complete-training');

    const client = new PubSub({ projectId: PROJECT, apiEndpoint: emulator!.host, emulatorMode: true });
    try {
      const id = await client.topic(RAW_TOPICS.vertexJobState).publishMessage({ json: RECONCILE_MESSAGE, attributes: { source: 'cloud-scheduler/ctloop-reconcile-training' } });
      await waitFor(() => received.length > 0, 'the reconcile message pushed to the probe');
      const d = decodePubsubCloudEvent(received[0]!);
      expect(d.messageId).toBe(id);
      expect(JSON.parse(d.data.toString('utf8'))).toEqual(RECONCILE_MESSAGE);
      expect(received[0]!.source).toContain(`topics/${RAW_TOPICS.vertexJobState}`);
    } finally {
      await client.close();
    }
  });
});
