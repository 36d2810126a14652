import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { OperationPendingError, type Endpoint } from '../../shared/ports/endpoint.js';

/**
 * The Endpoint contract, run against the embedded adapter (stand-in model-server processes) and the Vertex AI adapter
 * (gRPC stand-in from the aiplatform protos). Long-running operations surface as OperationPendingError; `settle`
 * calls again as a later invocation would, until the operation is done.
 */
export interface EndpointTarget {
  endpoint: Endpoint;
  /** Register a new version of `model` whose predictions are sigmoid(bias) for any instance; returns its number. */
  addVersion(model: string, bias: number): Promise<string>;
  close(): Promise<void>;
}

export async function settle<T>(f: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (err) {
      if (!(err instanceof OperationPendingError) || i >= attempts) throw err;
    }
  }
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function runEndpointContract(label: string, make: () => Promise<EndpointTarget>): void {
  describe(`Endpoint contract: ${label}`, () => {
    let t: EndpointTarget;
    const model = 'flight_delay';
    let v1: string;
    let v2: string;
    let id1: string;
    let id2: string;
    beforeAll(async () => {
      t = await make();
      v1 = await t.addVersion(model, -1);
      v2 = await t.addVersion(model, 2);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('describes a model never deployed as null, and refuses to predict it', async () => {
      expect(await t.endpoint.describe('never_deployed')).toBeNull();
      await expect(t.endpoint.predict('never_deployed', [{}])).rejects.toBeInstanceOf(NotFoundError);
    });

    it('a first deployment takes all the traffic whatever share is asked, and answers predictions', async () => {
      const d = await settle(() => t.endpoint.deploy(model, v1, { trafficPercent: 10 }));
      id1 = d.deployedModelId;
      expect(d).toMatchObject({ model, version: v1 });
      const s = await t.endpoint.describe(model);
      expect(s!.trafficSplit).toEqual({ [id1]: 100 });
      expect(s!.deployedModels.map((x) => [x.version, x.health])).toEqual([[v1, 'healthy']]);
      const p = await t.endpoint.predict(model, [{ x: 1 }, { x: 2 }], { requestId: 'r-1' });
      expect(p).toMatchObject({ model, version: v1, deployedModelId: id1 });
      expect(p.predictions.map((x) => x.toFixed(6))).toEqual([sigmoid(-1), sigmoid(-1)].map((x) => x.toFixed(6)));
    });

    it('deploying the same version again returns the existing deployment', async () => {
      const again = await settle(() => t.endpoint.deploy(model, v1, { trafficPercent: 10 }));
      expect(again.deployedModelId).toBe(id1);
      expect((await t.endpoint.describe(model))!.deployedModels).toHaveLength(1);
    });

    it('a canary takes its share and the rest keeps the current split', async () => {
      const d = await settle(() => t.endpoint.deploy(model, v2, { trafficPercent: 10 }));
      id2 = d.deployedModelId;
      expect(id2).not.toBe(id1);
      expect((await t.endpoint.describe(model))!.trafficSplit).toEqual({ [id1]: 90, [id2]: 10 });
    });

    it('refuses a split that does not sum to 100 or names an undeployed model, and keeps the old one', async () => {
      await expect(t.endpoint.setTraffic(model, { [id1]: 50, [id2]: 40 })).rejects.toBeInstanceOf(ValidationError);
      await expect(t.endpoint.setTraffic(model, { [id1]: 50, nope: 50 })).rejects.toBeInstanceOf(ValidationError);
      await expect(t.endpoint.deploy(model, v2, { trafficPercent: 101 })).rejects.toBeInstanceOf(ValidationError);
      expect((await t.endpoint.describe(model))!.trafficSplit).toEqual({ [id1]: 90, [id2]: 10 });
    });

    it('shifts traffic: all of it to the canary, then predictions come from the canary', async () => {
      await t.endpoint.setTraffic(model, { [id2]: 100 });
      expect((await t.endpoint.describe(model))!.trafficSplit).toEqual({ [id1]: 0, [id2]: 100 });
      for (const r of ['a', 'b', 'c']) {
        const p = await t.endpoint.predict(model, [{ x: 0 }], { requestId: r });
        expect(p).toMatchObject({ version: v2, deployedModelId: id2 });
        expect(p.predictions[0]).toBeCloseTo(sigmoid(2), 9);
      }
    });

    it('refuses to undeploy a model that still takes traffic; undeploys one that does not; unknown ids are a no-op', async () => {
      await expect(t.endpoint.undeploy(model, id2)).rejects.toBeInstanceOf(ValidationError);
      await settle(() => t.endpoint.undeploy(model, id1));
      await settle(() => t.endpoint.undeploy(model, id1));
      const s = await t.endpoint.describe(model);
      expect(s!.deployedModels.map((x) => x.deployedModelId)).toEqual([id2]);
      expect(s!.trafficSplit).toEqual({ [id2]: 100 });
    });

    it('deploying a version that does not exist fails with NotFoundError and changes nothing', async () => {
      await expect(settle(() => t.endpoint.deploy(model, '999', { trafficPercent: 10 }))).rejects.toBeInstanceOf(NotFoundError);
      expect((await t.endpoint.describe(model))!.trafficSplit).toEqual({ [id2]: 100 });
    });

    it('the last deployed model may be undeployed with its traffic; then nothing serves', async () => {
      await settle(() => t.endpoint.undeploy(model, id2));
      expect(await t.endpoint.describe(model)).toBeNull();
      await expect(t.endpoint.predict(model, [{}])).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
