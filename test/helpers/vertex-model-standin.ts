import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadRoot } from './vertex-endpoint-standin.js';

/**
 * A stand-in for Vertex AI's ModelService (and the google.longrunning.Operations service its long-running calls are
 * polled through), served over gRPC from the `.proto` files shipped inside @google-cloud/aiplatform, so the real
 * `ModelServiceClient` talks to it unchanged and every request is checked against the protos on the wire.
 *
 * Behaviour modelled on the API (https://cloud.google.com/vertex-ai/docs/reference/rpc/google.cloud.aiplatform.v1#modelservice and the protos in @google-cloud/aiplatform 6.11, model_service.proto): `uploadModel` returns an unfinished operation that
 * completes after `pollsBeforeDone` GetOperation calls (only then does the version exist); the first version of a
 * model is created with `modelId` and is `default`; later ones need `parentModel`; versions are numbered 1, 2, …;
 * aliases match `[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]`, are unique per model (setting one moves it) and
 * `mergeVersionAliases` removes those prefixed with `-`. `name@ref` resolves a version id or alias; a bare name the
 * `default` version.
 */
const require = createRequire(import.meta.url);
const AIP = join(dirname(require.resolve('@google-cloud/aiplatform/package.json')), 'build', 'protos');
// google-gax (the client's transport) ships google/longrunning and the common protos; resolve it as the client does.
const gaxMain = createRequire(join(AIP, '..', '..', 'package.json')).resolve('google-gax');
const GAX = join(gaxMain.slice(0, gaxMain.lastIndexOf('/build/')), 'build', 'protos');
const INCLUDES = [AIP, GAX];
const MODEL_SERVICE = 'google/cloud/aiplatform/v1/model_service.proto';
const OPERATIONS = 'google/longrunning/operations.proto';

const ALIAS = /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/;

type Obj = Record<string, unknown>;
interface StoredVersion {
  model: Obj;
  versionId: string;
  aliases: string[];
}
interface Operation {
  name: string;
  polls: number;
  finish: () => Obj; // returns the Operation message once done
  done?: Obj;
}

export interface RecordedCall {
  method: string;
  request: Obj;
}

export interface VertexModelStandin {
  address: string;
  port: number;
  calls: RecordedCall[];
  /** Model id → versions, oldest first (for assertions). */
  models: Map<string, StoredVersion[]>;
  /** Number of GetOperation polls before an upload completes (default 1). */
  pollsBeforeDone: number;
  /** Make the next upload's operation finish with this gRPC error status. */
  failNextUpload(code: number, message: string): void;
  close(): Promise<void>;
}

function err(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export async function startVertexModelStandin(): Promise<VertexModelStandin> {
  const opts = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true, includeDirs: INCLUDES };
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync([MODEL_SERVICE, OPERATIONS], opts)) as unknown as {
    google: { cloud: { aiplatform: { v1: { ModelService: grpc.ServiceClientConstructor } } }; longrunning: { Operations: grpc.ServiceClientConstructor } };
  };
  const root = loadRoot([MODEL_SERVICE]);
  const UploadModelResponse = root.lookupType('google.cloud.aiplatform.v1.UploadModelResponse');

  const calls: RecordedCall[] = [];
  const models = new Map<string, StoredVersion[]>();
  const operations = new Map<string, Operation>();
  let opSeq = 0;
  let nextFailure: { code: number; message: string } | null = null;

  const split = (name: string): { parent: string; id: string; ref: string | null } | null => {
    const m = /^(projects\/[^/]+\/locations\/[^/]+)\/models\/([^/@]+)(?:@(.+))?$/.exec(name);
    return m ? { parent: m[1]!, id: m[2]!, ref: m[3] ?? null } : null;
  };
  const resolve = (name: string): StoredVersion | grpc.ServiceError => {
    const s = split(name);
    if (!s) return err(grpc.status.INVALID_ARGUMENT, `invalid model name ${name}`);
    const versions = models.get(`${s.parent}/models/${s.id}`);
    if (!versions) return err(grpc.status.NOT_FOUND, `Model ${s.parent}/models/${s.id} not found.`);
    const ref = s.ref ?? 'default';
    const v = versions.find((x) => x.versionId === ref || x.aliases.includes(ref));
    return v ?? err(grpc.status.NOT_FOUND, `Model ${name} not found.`);
  };
  const render = (v: StoredVersion): Obj => ({ ...v.model, versionId: v.versionId, versionAliases: [...v.aliases] });
  const checkAliases = (aliases: string[]): grpc.ServiceError | null => {
    for (const a of aliases) {
      const bare = a.startsWith('-') ? a.slice(1) : a;
      if (!ALIAS.test(bare)) return err(grpc.status.INVALID_ARGUMENT, `Invalid version alias ${a}: must match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9].`);
    }
    return null;
  };
  /** Give `v` these aliases, moving each off any other version of the model (aliases are unique per model). */
  const assign = (versions: StoredVersion[], v: StoredVersion, aliases: string[]) => {
    for (const a of aliases) {
      if (a.startsWith('-')) {
        v.aliases = v.aliases.filter((x) => x !== a.slice(1));
        continue;
      }
      for (const o of versions) o.aliases = o.aliases.filter((x) => x !== a);
      if (!v.aliases.includes(a)) v.aliases.push(a);
    }
  };

  const modelService: grpc.UntypedServiceImplementation = {
    uploadModel(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      const req = call.request;
      calls.push({ method: 'uploadModel', request: req });
      const parent = String(req.parent ?? '');
      const model = (req.model ?? {}) as Obj;
      if (!/^projects\/[^/]+\/locations\/[^/]+$/.test(parent)) return cb(err(grpc.status.INVALID_ARGUMENT, `invalid parent ${parent}`));
      if (!model.displayName) return cb(err(grpc.status.INVALID_ARGUMENT, 'model.display_name is required'));
      if (!(model.containerSpec as Obj | undefined)?.imageUri) return cb(err(grpc.status.INVALID_ARGUMENT, 'model.container_spec.image_uri is required'));
      const aliases = (model.versionAliases ?? []) as string[];
      const bad = checkAliases(aliases) ?? (aliases.some((a) => a.startsWith('-')) ? err(grpc.status.INVALID_ARGUMENT, 'aliases to remove are only valid in MergeVersionAliases') : null);
      if (bad) return cb(bad);
      let key: string;
      if (req.parentModel) {
        const s = split(String(req.parentModel));
        if (!s || s.ref || s.parent !== parent) return cb(err(grpc.status.INVALID_ARGUMENT, `invalid parent_model ${String(req.parentModel)}`));
        key = String(req.parentModel);
        if (!models.has(key)) return cb(err(grpc.status.NOT_FOUND, `Model ${key} not found.`));
        if (req.modelId) return cb(err(grpc.status.INVALID_ARGUMENT, 'model_id cannot be set together with parent_model'));
      } else {
        const id = String(req.modelId ?? `${Date.now()}`);
        key = `${parent}/models/${id}`;
        if (models.has(key)) return cb(err(grpc.status.ALREADY_EXISTS, `Model ${key} already exists.`));
      }
      const name = `${key}/operations/${++opSeq}`;
      const failure = nextFailure;
      nextFailure = null;
      operations.set(name, {
        name, polls: 0,
        finish: () => {
          if (failure) return { name, done: true, error: { code: failure.code, message: failure.message } };
          const versions = models.get(key) ?? [];
          models.set(key, versions);
          const v: StoredVersion = {
            versionId: String(versions.length + 1), aliases: [],
            model: { ...model, name: key, versionCreateTime: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 } },
          };
          delete v.model.versionAliases;
          versions.push(v);
          assign(versions, v, versions.length === 1 && !aliases.includes('default') ? ['default', ...aliases] : aliases);
          const value = UploadModelResponse.encode(UploadModelResponse.fromObject({ model: key, modelVersionId: v.versionId })).finish();
          return { name, done: true, response: { typeUrl: 'type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse', value: Buffer.from(value) } };
        },
      });
      cb(null, { name, done: false });
    },
    getModel(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'getModel', request: call.request });
      const v = resolve(String(call.request.name));
      if ('code' in v) return cb(v);
      cb(null, render(v));
    },
    listModels(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'listModels', request: call.request });
      const parent = String(call.request.parent);
      const out = [...models.entries()].filter(([k]) => k.startsWith(`${parent}/models/`))
        .map(([, vs]) => render(vs.find((v) => v.aliases.includes('default'))!));
      cb(null, { models: out, nextPageToken: '' });
    },
    listModelVersions(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'listModelVersions', request: call.request });
      const versions = models.get(String(call.request.name));
      if (!versions) return cb(err(grpc.status.NOT_FOUND, `Model ${String(call.request.name)} not found.`));
      cb(null, { models: versions.map(render), nextPageToken: '' });
    },
    mergeVersionAliases(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'mergeVersionAliases', request: call.request });
      const aliases = (call.request.versionAliases ?? []) as string[];
      if (aliases.length === 0) return cb(err(grpc.status.INVALID_ARGUMENT, 'version_aliases is required'));
      const bad = checkAliases(aliases);
      if (bad) return cb(bad);
      if (aliases.includes('-default')) return cb(err(grpc.status.INVALID_ARGUMENT, 'the default alias cannot be removed; set it on another version'));
      const name = String(call.request.name);
      const v = resolve(name);
      if ('code' in v) return cb(v);
      const s = split(name)!;
      assign(models.get(`${s.parent}/models/${s.id}`)!, v, aliases);
      cb(null, render(v));
    },
  };

  const operationsService: grpc.UntypedServiceImplementation = {
    getOperation(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
      calls.push({ method: 'getOperation', request: call.request });
      const op = operations.get(String(call.request.name));
      if (!op) return cb(err(grpc.status.NOT_FOUND, `operation ${String(call.request.name)} not found`));
      if (op.done) return cb(null, op.done);
      op.polls++;
      if (op.polls < standin.pollsBeforeDone) return cb(null, { name: op.name, done: false });
      op.done = op.finish();
      cb(null, op.done);
    },
  };

  const server = new grpc.Server();
  server.addService(pkg.google.cloud.aiplatform.v1.ModelService.service, modelService);
  server.addService(pkg.google.longrunning.Operations.service, operationsService);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));

  const standin: VertexModelStandin = {
    address: '127.0.0.1', port, calls, models, pollsBeforeDone: 1,
    failNextUpload(code, message) {
      nextFailure = { code, message };
    },
    close: () => new Promise<void>((res) => server.tryShutdown(() => res())),
  };
  return standin;
}
