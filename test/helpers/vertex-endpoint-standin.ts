import { accessSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/**
 * A stand-in for Vertex AI's EndpointService, PredictionService.RawPredict and google.longrunning.Operations, served
 * over gRPC from the `.proto` files inside @google-cloud/aiplatform (as test/helpers/vertex-model-standin.ts does for
 * ModelService), so the real clients talk to it unchanged and every request is checked against the protos.
 *
 * Behaviour modelled on the API (Vertex AI v1 docs and protos): `deployModel` needs an existing endpoint, a model name
 * `projects/P/locations/R/models/M[@V]` and dedicated resources (machine type, min replicas ≥ 1); its `trafficSplit`
 * uses `"0"` for the model being deployed, values sum to 100 and a non-empty map replaces the whole split. It returns
 * an unfinished operation that completes after `pollsBeforeDone` GetOperation calls (only then is the model deployed
 * and the split applied); `failNextDeploy` makes it finish with an error (a container that never got healthy), with
 * nothing deployed. `updateEndpoint` changes traffic only with `update_mask` `traffic_split`. `undeployModel` is
 * refused while the model takes traffic (unless the request's split removes it, or it is the last deployed model) and is long-running too.
 * `rawPredict` picks a deployed model by the split and answers with `predictor`.
 */
const require = createRequire(import.meta.url);
const AIP = join(dirname(require.resolve('@google-cloud/aiplatform/package.json')), 'build', 'protos');
const gaxMain = createRequire(join(AIP, '..', '..', 'package.json')).resolve('google-gax');
const GAX = join(gaxMain.slice(0, gaxMain.lastIndexOf('/build/')), 'build', 'protos');
const INCLUDES = [AIP, GAX];
const ENDPOINT_SERVICE = 'google/cloud/aiplatform/v1/endpoint_service.proto';
const PREDICTION_SERVICE = 'google/cloud/aiplatform/v1/prediction_service.proto';
const OPERATIONS = 'google/longrunning/operations.proto';

type Obj = Record<string, unknown>;

export interface StandinDeployedModel { id: string; model: string; modelVersionId: string; displayName: string; createTime: Obj }
export interface StandinEndpoint { name: string; deployedModels: StandinDeployedModel[]; trafficSplit: Record<string, number> }

export interface VertexEndpointStandin {
  address: string;
  port: number;
  calls: { method: string; request: Obj }[];
  endpoints: Map<string, StandinEndpoint>;
  /** Model versions that exist (`projects/P/locations/R/models/M@V`); deploying another is NOT_FOUND. */
  models: Set<string>;
  pollsBeforeDone: number;
  /** Create an (empty) endpoint, as Terraform does. */
  addEndpoint(name: string): void;
  /** Make the next deployment's operation fail with this message (nothing is deployed). */
  failNextDeploy(message: string): void;
  /** Predictions of one deployed model (model name with @version) for the instances; default 0.5 each. */
  predictor: (model: string, instances: unknown[]) => number[];
  close(): Promise<void>;
}

function err(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** The aiplatform protos (and google-gax's) as a protobufjs root, for encoding operation results by hand. */
export function loadRoot(files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of INCLUDES) {
      const p = join(dir, target);
      try {
        accessSync(p);
        return p;
      } catch { /* next include dir */ }
    }
    return target;
  };
  root.loadSync(files, { keepCase: false });
  return root;
}

export async function startVertexEndpointStandin(): Promise<VertexEndpointStandin> {
  const opts = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true, includeDirs: INCLUDES };
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync([ENDPOINT_SERVICE, PREDICTION_SERVICE, OPERATIONS], opts)) as unknown as {
    google: { cloud: { aiplatform: { v1: { EndpointService: grpc.ServiceClientConstructor; PredictionService: grpc.ServiceClientConstructor } } }; longrunning: { Operations: grpc.ServiceClientConstructor } };
  };
  const root = loadRoot([ENDPOINT_SERVICE]);
  const DeployModelResponse = root.lookupType('google.cloud.aiplatform.v1.DeployModelResponse');
  const UndeployModelResponse = root.lookupType('google.cloud.aiplatform.v1.UndeployModelResponse');

  const calls: { method: string; request: Obj }[] = [];
  const endpoints = new Map<string, StandinEndpoint>();
  const operations = new Map<string, { polls: number; finish: () => Obj; done?: Obj }>();
  let seq = 0;
  let nextId = 7_000_000_000;
  let nextFailure: string | null = null;
  let rr = 0;

  const any = (type: protobuf.Type, typeName: string, value: Obj) => ({
    typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(type.encode(type.fromObject(value)).finish()),
  });
  const validSplit = (split: Record<string, number>, ids: string[], what: string): grpc.ServiceError | null => {
    for (const [k, v] of Object.entries(split)) {
      if (!ids.includes(k)) return err(grpc.status.INVALID_ARGUMENT, `${what}: traffic split names unknown deployed model ${k}`);
      if (!Number.isInteger(v) || v < 0 || v > 100) return err(grpc.status.INVALID_ARGUMENT, `${what}: traffic percentage ${v} out of range`);
    }
    const sum = Object.values(split).reduce((a, b) => a + b, 0);
    if (Object.keys(split).length > 0 && sum !== 100) return err(grpc.status.INVALID_ARGUMENT, `${what}: traffic split sums to ${sum}, must be 100`);
    return null;
  };
  const render = (e: StandinEndpoint): Obj => ({
    name: e.name, displayName: e.name.split('/').at(-1), trafficSplit: { ...e.trafficSplit },
    deployedModels: e.deployedModels.map((d) => ({ id: d.id, model: d.model, modelVersionId: d.modelVersionId, displayName: d.displayName, createTime: d.createTime })),
  });
  const lro = (name: string, finish: () => Obj) => {
    operations.set(name, { polls: 0, finish });
    return { name, done: false };
  };

  const endpointService: grpc.UntypedServiceImplementation = {
    getEndpoint(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'getEndpoint', request: call.request });
      const e = endpoints.get(String(call.request.name));
      if (!e) return cb(err(grpc.status.NOT_FOUND, `Endpoint ${String(call.request.name)} not found.`));
      cb(null, render(e));
    },
    deployModel(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      const req = call.request;
      calls.push({ method: 'deployModel', request: req });
      const e = endpoints.get(String(req.endpoint));
      if (!e) return cb(err(grpc.status.NOT_FOUND, `Endpoint ${String(req.endpoint)} not found.`));
      const dm = (req.deployedModel ?? {}) as Obj;
      const m = /^(projects\/[^/]+\/locations\/[^/]+)\/models\/([^/@]+)(?:@(.+))?$/.exec(String(dm.model ?? ''));
      if (!m) return cb(err(grpc.status.INVALID_ARGUMENT, `invalid deployed_model.model ${String(dm.model)}`));
      if (!standin.models.has(`${m[1]}/models/${m[2]}@${m[3] ?? '1'}`)) return cb(err(grpc.status.NOT_FOUND, `Model ${String(dm.model)} not found.`));
      const res = (dm.dedicatedResources ?? {}) as Obj;
      if (!(res.machineSpec as Obj | undefined)?.machineType) return cb(err(grpc.status.INVALID_ARGUMENT, 'deployed_model.dedicated_resources.machine_spec.machine_type is required'));
      if (!(Number(res.minReplicaCount ?? 0) >= 1)) return cb(err(grpc.status.INVALID_ARGUMENT, 'deployed_model.dedicated_resources.min_replica_count must be at least 1'));
      const split = Object.fromEntries(Object.entries((req.trafficSplit ?? {}) as Record<string, number>).map(([k, v]) => [k, Number(v)]));
      const bad = validSplit(split, ['0', ...e.deployedModels.map((d) => d.id)], 'DeployModel');
      if (bad) return cb(bad);
      const failure = nextFailure;
      nextFailure = null;
      const name = `${String(req.endpoint)}/operations/${++seq}`;
      cb(null, lro(name, () => {
        if (failure) return { name, done: true, error: { code: grpc.status.FAILED_PRECONDITION, message: failure } };
        const id = String(nextId++);
        const d: StandinDeployedModel = { id, model: `${m[1]}/models/${m[2]}`, modelVersionId: m[3] ?? '1', displayName: String(dm.displayName ?? ''), createTime: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 } };
        e.deployedModels.push(d);
        if (Object.keys(split).length > 0) e.trafficSplit = Object.fromEntries(Object.entries(split).map(([k, v]) => [k === '0' ? id : k, v]));
        else if (e.deployedModels.length === 1) e.trafficSplit = { [id]: 100 };
        return { name, done: true, response: any(DeployModelResponse, 'google.cloud.aiplatform.v1.DeployModelResponse', { deployedModel: { id: d.id, model: d.model, modelVersionId: d.modelVersionId, displayName: d.displayName, createTime: d.createTime } }) };
      }));
    },
    undeployModel(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      const req = call.request;
      calls.push({ method: 'undeployModel', request: req });
      const e = endpoints.get(String(req.endpoint));
      if (!e) return cb(err(grpc.status.NOT_FOUND, `Endpoint ${String(req.endpoint)} not found.`));
      const id = String(req.deployedModelId ?? '');
      if (!e.deployedModels.some((d) => d.id === id)) return cb(err(grpc.status.NOT_FOUND, `DeployedModel ${id} not found.`));
      const split = Object.fromEntries(Object.entries((req.trafficSplit ?? {}) as Record<string, number>).map(([k, v]) => [k, Number(v)]));
      if (Object.keys(split).length > 0) {
        const bad = validSplit(split, e.deployedModels.map((d) => d.id), 'UndeployModel');
        if (bad) return cb(bad);
        if ((split[id] ?? 0) > 0) return cb(err(grpc.status.INVALID_ARGUMENT, `the traffic split must remove ${id}`));
      } else if ((e.trafficSplit[id] ?? 0) > 0 && e.deployedModels.length > 1) {
        return cb(err(grpc.status.FAILED_PRECONDITION, `Model ${id} still has ${e.trafficSplit[id]}% traffic; update the traffic split first.`));
      }
      const name = `${String(req.endpoint)}/operations/${++seq}`;
      cb(null, lro(name, () => {
        e.deployedModels = e.deployedModels.filter((d) => d.id !== id);
        const next = Object.keys(split).length > 0 ? split : e.trafficSplit;
        e.trafficSplit = Object.fromEntries(Object.entries(next).filter(([k]) => k !== id));
        return { name, done: true, response: any(UndeployModelResponse, 'google.cloud.aiplatform.v1.UndeployModelResponse', {}) };
      }));
    },
    updateEndpoint(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      const req = call.request;
      calls.push({ method: 'updateEndpoint', request: req });
      const body = (req.endpoint ?? {}) as Obj;
      const e = endpoints.get(String(body.name));
      if (!e) return cb(err(grpc.status.NOT_FOUND, `Endpoint ${String(body.name)} not found.`));
      const paths = ((req.updateMask as Obj | undefined)?.paths ?? []) as string[];
      if (!paths.includes('traffic_split')) return cb(err(grpc.status.INVALID_ARGUMENT, `update_mask ${JSON.stringify(paths)} does not name traffic_split`));
      const split = Object.fromEntries(Object.entries((body.trafficSplit ?? {}) as Record<string, number>).map(([k, v]) => [k, Number(v)]));
      const bad = validSplit(split, e.deployedModels.map((d) => d.id), 'UpdateEndpoint');
      if (bad) return cb(bad);
      e.trafficSplit = split;
      cb(null, render(e));
    },
  };

  const predictionService: grpc.UntypedServiceImplementation = {
    rawPredict(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'rawPredict', request: call.request });
      const e = endpoints.get(String(call.request.endpoint));
      if (!e) return cb(err(grpc.status.NOT_FOUND, `Endpoint ${String(call.request.endpoint)} not found.`));
      const serving = Object.entries(e.trafficSplit).filter(([, v]) => v > 0).sort(([a], [b]) => (a < b ? -1 : 1));
      if (serving.length === 0) return cb(err(grpc.status.FAILED_PRECONDITION, 'The endpoint has no deployed model taking traffic.'));
      const http = (call.request.httpBody ?? {}) as { data?: Buffer };
      let body: { instances?: unknown };
      try {
        body = JSON.parse(Buffer.from(http.data ?? []).toString('utf8')) as { instances?: unknown };
      } catch {
        return cb(err(grpc.status.INVALID_ARGUMENT, 'request body is not JSON'));
      }
      if (!Array.isArray(body.instances)) return cb(err(grpc.status.INVALID_ARGUMENT, 'instances must be a list'));
      const b = rr++ % 100;
      let acc = 0;
      const id = serving.find(([, v]) => (acc += v) > b)?.[0] ?? serving[0]![0];
      const d = e.deployedModels.find((x) => x.id === id)!;
      const predictions = standin.predictor(`${d.model}@${d.modelVersionId}`, body.instances);
      cb(null, { contentType: 'application/json', data: Buffer.from(JSON.stringify({ predictions })) });
    },
  };

  const operationsService: grpc.UntypedServiceImplementation = {
    getOperation(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'getOperation', request: call.request });
      const name = String(call.request.name);
      const op = operations.get(name);
      if (!op) return cb(err(grpc.status.NOT_FOUND, `operation ${name} not found`));
      if (op.done) return cb(null, op.done);
      op.polls++;
      if (op.polls < standin.pollsBeforeDone) return cb(null, { name, done: false });
      op.done = op.finish();
      cb(null, op.done);
    },
  };

  const server = new grpc.Server();
  server.addService(pkg.google.cloud.aiplatform.v1.EndpointService.service, endpointService);
  server.addService(pkg.google.cloud.aiplatform.v1.PredictionService.service, predictionService);
  server.addService(pkg.google.longrunning.Operations.service, operationsService);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));

  const standin: VertexEndpointStandin = {
    address: '127.0.0.1', port, calls, endpoints, models: new Set(), pollsBeforeDone: 1,
    addEndpoint(name) {
      endpoints.set(name, { name, deployedModels: [], trafficSplit: {} });
    },
    failNextDeploy(message) {
      nextFailure = message;
    },
    predictor: (_model, instances) => instances.map(() => 0.5),
    close: () => new Promise<void>((res) => server.tryShutdown(() => res())),
  };
  return standin;
}
