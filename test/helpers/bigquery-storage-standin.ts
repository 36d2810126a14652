/**
 * A local gRPC server standing in for the BigQuery Storage Write API (`google.cloud.bigquery.storage.v1.BigQueryWrite`),
 * for tests only. Its service definition is loaded from the `protos.json` shipped inside
 * `@google-cloud/bigquery-storage`, so the real client library talks to it unchanged.
 *
 * It implements AppendRows on a table's `_default` stream the way BigQuery answers it: the first request of a
 * connection must name the stream and carry the writer's proto descriptor; every descriptor field must be a column of
 * the table with a compatible type (else the stream fails with INVALID_ARGUMENT, "Input schema has more fields than
 * BigQuery schema" / "The proto field mismatched with BigQuery field"); a REQUIRED column must be present in each row
 * (else the response carries `error` + `rowErrors` and no row of the request is stored); offsets are refused on the
 * default stream. Accepted rows are decoded and stored in the BigQuery REST stand-in's table (`appendRows`), so they
 * read back through the ZetaSQL-checked SQL path. Every request is recorded; failures can be injected.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { BigQueryStandin } from './bigquery-standin.js';

const require = createRequire(import.meta.url);

export interface DescriptorField { name: string; number: number; label?: string; type?: string }
export interface RecordedAppend {
  /** Connection number (1-based): a writer opens one per (table, schema) and reuses it. */
  connection: number;
  writeStream: string;
  offset: string | null;
  /** The writer schema this connection declared (first request), as field name → proto type. */
  descriptor: DescriptorField[];
  /** Decoded rows (INT64/TIMESTAMP as strings of digits, as proto-loader gives longs). */
  rows: Record<string, unknown>[];
}

export interface InjectedFailure {
  code: grpc.status;
  message: string;
  /** `response`: an AppendRowsResponse with `error` (the stream stays open); `stream`: the call ends with the status. */
  as: 'response' | 'stream';
}

export interface StorageWriteStandin {
  readonly port: number;
  /** gax client options pointing the real client at this server. */
  readonly clientOptions: { apiEndpoint: string; port: number; sslCreds: grpc.ChannelCredentials };
  readonly appends: RecordedAppend[];
  failNext(f: InjectedFailure): void;
  stop(): Promise<void>;
}

type Long = string | number;
interface AppendRowsRequest {
  writeStream?: string;
  offset?: { value?: Long } | null;
  protoRows?: { writerSchema?: { protoDescriptor?: { name?: string; field?: DescriptorField[] } }; rows?: { serializedRows?: Buffer[] } };
}

const PROTO_TYPE: Record<string, string> = { TYPE_STRING: 'string', TYPE_INT64: 'int64', TYPE_DOUBLE: 'double', TYPE_BOOL: 'bool', TYPE_INT32: 'int32', TYPE_BYTES: 'bytes', TYPE_FLOAT: 'float' };
/** BigQuery column types each proto type may be written to (Storage Write API "supported data types"). */
const COMPATIBLE: Record<string, string[]> = {
  string: ['STRING', 'JSON', 'TIMESTAMP', 'DATE', 'INT64', 'INTEGER', 'FLOAT64', 'FLOAT', 'BOOL', 'BOOLEAN'],
  int64: ['INT64', 'INTEGER', 'TIMESTAMP', 'FLOAT64', 'FLOAT'],
  int32: ['INT64', 'INTEGER', 'DATE', 'FLOAT64', 'FLOAT'],
  double: ['FLOAT64', 'FLOAT'],
  float: ['FLOAT64', 'FLOAT'],
  bool: ['BOOL', 'BOOLEAN'],
  bytes: ['BYTES'],
};

function loadService(): grpc.ServiceDefinition {
  const json = require('@google-cloud/bigquery-storage/build/protos/protos.json') as protobuf.INamespace;
  const def = protoLoader.fromJSON(json, { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { google: { cloud: { bigquery: { storage: { v1: { BigQueryWrite: { service: grpc.ServiceDefinition } } } } } } };
  return pkg.google.cloud.bigquery.storage.v1.BigQueryWrite.service;
}

class StreamFailure extends Error {
  constructor(readonly code: grpc.status, message: string) { super(message); }
}

/** Start the stand-in in front of a BigQuery REST stand-in (where the tables live). */
export async function startStorageWriteStandin(bq: BigQueryStandin): Promise<StorageWriteStandin> {
  const appends: RecordedAppend[] = [];
  const failures: InjectedFailure[] = [];
  let connections = 0;
  const server = new grpc.Server();

  const tableOf = (stream: string): string => {
    const m = /^projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/streams\/([^/]+)$/.exec(stream);
    if (!m || m[1] !== bq.project) throw new StreamFailure(grpc.status.NOT_FOUND, `Requested entity was not found. Entity: ${stream}`);
    if (m[4] !== '_default') throw new StreamFailure(grpc.status.NOT_FOUND, `the stand-in serves only the _default stream, got ${stream}`);
    const key = `${m[2]}.${m[3]}`;
    if (!bq.tableFields(key)) throw new StreamFailure(grpc.status.NOT_FOUND, `Requested entity was not found. Entity: ${stream}`);
    return key;
  };

  const checkSchema = (table: string, fields: DescriptorField[]): protobuf.Type => {
    const columns = bq.tableFields(table)!;
    const type = new protobuf.Type('root');
    const extra = fields.filter((f) => !columns.some((c) => c.name.toLowerCase() === f.name.toLowerCase()));
    if (extra.length > 0) {
      throw new StreamFailure(grpc.status.INVALID_ARGUMENT, `Input schema has more fields than BigQuery schema, extra fields: '${extra.map((f) => f.name).join(',')}' Entity: ${table}`);
    }
    for (const f of fields) {
      const pt = PROTO_TYPE[f.type ?? ''];
      const col = columns.find((c) => c.name.toLowerCase() === f.name.toLowerCase())!;
      if (!pt || !COMPATIBLE[pt]!.includes(col.type.toUpperCase())) {
        throw new StreamFailure(grpc.status.INVALID_ARGUMENT, `The proto field mismatched with BigQuery field at root.${f.name}, the proto field type ${pt ?? f.type}, BigQuery field type ${col.type} Entity: ${table}`);
      }
      type.add(new protobuf.Field(f.name, f.number, pt, f.label === 'LABEL_REQUIRED' ? 'required' : 'optional'));
    }
    for (const c of columns) {
      if (c.mode === 'REQUIRED' && !fields.some((f) => f.name.toLowerCase() === c.name.toLowerCase())) {
        throw new StreamFailure(grpc.status.INVALID_ARGUMENT, `JSONWriter/proto is missing REQUIRED field ${c.name} of ${table}`);
      }
    }
    return type;
  };

  /** A decoded proto value as the REST stand-in stores it. */
  const jsValue = (v: unknown, bqType: string): unknown => {
    if (v === undefined || v === null) return null;
    switch (bqType.toUpperCase()) {
      case 'TIMESTAMP': return new Date(Number(BigInt(String(v)) / 1000n));
      case 'DATE': return new Date(Number(v) * 86_400_000);
      case 'INT64': case 'INTEGER': return BigInt(String(v));
      default: return v;
    }
  };

  const appendRows = (call: grpc.ServerDuplexStream<AppendRowsRequest, unknown>): void => {
    const n = ++connections;
    let table: string | null = null;
    let stream = '';
    let type: protobuf.Type | null = null;
    let descriptor: DescriptorField[] = [];
    let queue: Promise<void> = Promise.resolve();
    let closed = false;
    // grpc-js ends a server stream with a status when the stream emits 'error'.
    const fail = (code: grpc.status, message: string): void => { closed = true; call.emit('error', Object.assign(new Error(message), { code, details: message })); };
    call.on('data', (req: AppendRowsRequest) => {
      queue = queue.then(async () => {
        if (closed || call.destroyed) return;
        try {
          if (!table) {
            if (!req.writeStream) throw new StreamFailure(grpc.status.INVALID_ARGUMENT, 'The first request on a connection must name write_stream');
            stream = req.writeStream;
            table = tableOf(stream);
            const schema = req.protoRows?.writerSchema?.protoDescriptor;
            if (!schema?.field?.length) throw new StreamFailure(grpc.status.INVALID_ARGUMENT, 'The first request on a connection must carry writer_schema.proto_descriptor');
            descriptor = schema.field;
            type = checkSchema(table, descriptor);
          } else if (req.protoRows?.writerSchema?.protoDescriptor?.field?.length) {
            descriptor = req.protoRows.writerSchema.protoDescriptor.field;
            type = checkSchema(table, descriptor);
          }
          const offset = req.offset?.value !== undefined && req.offset?.value !== null ? String(req.offset.value) : null;
          const rows = (req.protoRows?.rows?.serializedRows ?? []).map((b) => type!.toObject(type!.decode(b), { longs: String }) as Record<string, unknown>);
          appends.push({ connection: n, writeStream: stream, offset, descriptor, rows });
          const injected = failures.shift();
          if (injected?.as === 'stream') throw new StreamFailure(injected.code, injected.message);
          if (injected) return void call.write({ error: { code: injected.code, message: injected.message }, writeStream: stream });
          if (offset !== null) {
            return void call.write({ error: { code: grpc.status.INVALID_ARGUMENT, message: `Offset is not supported on the default stream ${stream}` }, writeStream: stream });
          }
          const columns = bq.tableFields(table)!;
          const rowErrors = rows.flatMap((r, index) => columns
            .filter((c) => c.mode === 'REQUIRED' && (r[c.name] === undefined || r[c.name] === null))
            .map((c) => ({ index, code: 'FIELDS_ERROR', message: `Field ${c.name} is required but missing` })));
          if (rowErrors.length > 0) {
            return void call.write({ error: { code: grpc.status.INVALID_ARGUMENT, message: 'Errors found while processing rows. Please refer to the row_errors field for details.' }, rowErrors, writeStream: stream });
          }
          await bq.appendRows(table, rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, jsValue(r[c.name], c.type)]))));
          call.write({ appendResult: {}, writeStream: stream });
        } catch (err) {
          if (err instanceof StreamFailure) return fail(err.code, err.message);
          fail(grpc.status.INTERNAL, String((err as Error)?.stack ?? err));
        }
      });
    });
    call.on('end', () => void queue.then(() => { if (!closed) call.end(); }));
  };

  const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'the stand-in serves AppendRows on the _default stream only' });
  server.addService(loadService(), {
    appendRows,
    createWriteStream: unimplemented, getWriteStream: unimplemented, finalizeWriteStream: unimplemented,
    batchCommitWriteStreams: unimplemented, flushRows: unimplemented,
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))));
  return {
    port,
    clientOptions: { apiEndpoint: '127.0.0.1', port, sslCreds: grpc.credentials.createInsecure() },
    appends,
    failNext(f) { failures.push(f); },
    stop: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}
