import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const aiplatformProtos = join(dirname(require.resolve('@google-cloud/aiplatform/package.json')), 'build', 'protos');
// google-gax exports only its entry (build/src/index.js); its protos sit in build/protos.
const gaxProtos = join(dirname(require.resolve('google-gax')), '..', 'protos');

/** A CustomJob as the stand-in stores it (proto-loader's plain object form: enums as names, longs as strings). */
export type StoredJob = Record<string, unknown> & { name: string; state: string; labels?: Record<string, string> };

/**
 * A Vertex AI JobService stand-in: a gRPC server built from the .proto files shipped in @google-cloud/aiplatform, so
 * requests are checked against the real message definitions (an unknown field or a wrong type fails to serialise in
 * the client). It records every request and keeps jobs in memory; tests drive their states with `setState`.
 */
export class VertexJobStandin {
  readonly requests: { method: string; request: Record<string, unknown> }[] = [];
  readonly jobs = new Map<string, StoredJob>();
  private server = new grpc.Server();
  private seq = 0;
  port = 0;

  async start(): Promise<this> {
    const def = await protoLoader.load('google/cloud/aiplatform/v1/job_service.proto', {
      includeDirs: [aiplatformProtos, gaxProtos], keepCase: false, longs: String, enums: String, defaults: false, oneofs: false,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { google: { cloud: { aiplatform: { v1: { JobService: { service: grpc.ServiceDefinition } } } } } };
    const service = pkg.google.cloud.aiplatform.v1.JobService.service;
    const unimplemented = (method: string) => (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED, details: `stand-in: ${method}` } as grpc.ServiceError);
    const impl: grpc.UntypedServiceImplementation = Object.fromEntries(Object.keys(service).map((m) => [m, unimplemented(m)]));
    impl.CreateCustomJob = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      this.requests.push({ method: 'CreateCustomJob', request: call.request });
      const parent = String(call.request.parent);
      const name = `${parent}/customJobs/${1000 + ++this.seq}`;
      const job: StoredJob = { ...(call.request.customJob as Record<string, unknown>), name, state: 'JOB_STATE_PENDING' };
      this.jobs.set(name, job);
      cb(null, job);
    };
    impl.GetCustomJob = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      this.requests.push({ method: 'GetCustomJob', request: call.request });
      const job = this.jobs.get(String(call.request.name));
      if (!job) return cb({ code: grpc.status.NOT_FOUND, details: `CustomJob ${String(call.request.name)} not found` } as grpc.ServiceError);
      cb(null, job);
    };
    impl.ListCustomJobs = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      this.requests.push({ method: 'ListCustomJobs', request: call.request });
      const m = /^labels\.(\w+)="([^"]*)"$/.exec(String(call.request.filter ?? ''));
      const jobs = [...this.jobs.values()].filter((j) => !m || j.labels?.[m[1]!] === m[2]);
      cb(null, { customJobs: jobs });
    };
    this.server.addService(service, impl);
    this.port = await new Promise<number>((res, rej) => this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? rej(err) : res(port))));
    return this;
  }

  setState(name: string, state: string, error?: string): void {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job ${name}`);
    job.state = state;
    if (error) job.error = { code: 3, message: error };
  }

  async stop(): Promise<void> {
    await new Promise<void>((res) => this.server.tryShutdown(() => res()));
  }
}
