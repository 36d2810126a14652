import type { ColumnSchema } from '../ports/warehouse.js';
import { PRICES, type Prices } from './prices.js';

/**
 * Monthly cost of feature ingestion at a given event rate, for the streaming design (Storage Write API appends,
 * daily compaction) beside the MERGE design it replaced (one DML statement into the offline table and one into an
 * online table per batch). Pure arithmetic over the table specs and PRICES; the assumptions are named in the output.
 */

export const SECONDS_PER_MONTH = 30 * 86_400;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

export interface CostInput {
  eventsPerSecond: number;
  rowsPerEvent: number;
  /** Columns of the offline table (sizes per BigQuery's data size rules). */
  columns: ColumnSchema[];
  /** Distinct entities (online table size for the MERGE design). */
  entities: number;
  /** Events one function instance handles per second (1 vCPU, 512 MiB; group commit). */
  eventsPerInstanceSecond?: number;
  /** Events the MERGE design's group commit writes per statement (the instance's request concurrency, 16). */
  eventsPerStatement?: number;
}

export interface CostLine { item: string; usd: number; note: string }
export interface CostEstimate { design: 'streaming' | 'merge'; lines: CostLine[]; totalUsd: number; warnings: string[] }

/** Bytes of one row as BigQuery bills it: 8 per INT64/FLOAT64/TIMESTAMP/DATE, 1 per BOOL, 2 + length per STRING. */
export function rowBytes(columns: ColumnSchema[], stringBytes = 16): number {
  return columns.reduce((n, c) => n + (c.type === 'BOOL' ? 1 : c.type === 'STRING' || c.type === 'JSON' ? 2 + (c.name === '_ingest_id' ? 40 : stringBytes) : 8), 0);
}

function shared(input: CostInput, p: Prices): { lines: CostLine[]; rows: number; bytes: number; events: number } {
  const events = input.eventsPerSecond * SECONDS_PER_MONTH;
  const rows = events * input.rowsPerEvent;
  const rb = rowBytes(input.columns);
  const bytes = rows * rb;
  // The event on the wire: envelope (~300 bytes) + each row as JSON (~1.6× its stored size).
  const msgBytes = Math.max(p.pubsubMinBytesPerMessage, 300 + input.rowsPerEvent * Math.ceil(rb * 1.6));
  const perInstance = input.eventsPerInstanceSecond ?? 500;
  const instanceSeconds = events / perInstance;
  return {
    events, rows, bytes,
    lines: [
      { item: 'Pub/Sub (publish + push delivery)', usd: (2 * events * msgBytes / TiB) * p.pubsubPerTiB, note: `${msgBytes} B billed per message` },
      { item: 'Cloud Functions invocations', usd: (events / 1e6) * p.functionInvocationsPerMillion, note: 'one per event' },
      { item: 'Cloud Functions compute', usd: instanceSeconds * (p.vcpuSecond + 0.5 * p.gibSecond), note: `${perInstance} events per instance-second (1 vCPU, 512 MiB)` },
      { item: 'Online store writes (Firestore)', usd: (rows / 1e5) * p.firestoreWritesPer100k, note: 'one document write per row (upper bound)' },
      { item: 'Offline storage (one month of rows)', usd: (bytes / GiB) * p.activeStoragePerGiBMonth, note: `${rb} B per row` },
    ],
  };
}

export function estimateStreaming(input: CostInput, p: Prices = PRICES): CostEstimate {
  const s = shared(input, p);
  const tables = 2; // the view's offline table + quarantine
  const dayBytes = s.bytes / 30;
  // compact-features: per table per day a count (ingest id + time) and, when copies exist, a MERGE reading the day
  // twice (source + target) — billed on the whole partition, at least 10 MB per referenced table.
  const countBytes = Math.max(p.queryMinBytesPerTable, (dayBytes * 48) / rowBytes(input.columns));
  const mergeBytes = Math.max(2 * p.queryMinBytesPerTable, 2 * dayBytes);
  const compaction = 30 * tables * (countBytes + mergeBytes);
  const lines: CostLine[] = [
    { item: 'Storage Write API ingestion', usd: (s.bytes / GiB) * p.storageWriteApiPerGiB, note: 'default stream, every row once (+ redeliveries)' },
    { item: 'Compaction (compact-features, daily)', usd: (compaction / TiB) * p.queryPerTiB, note: `${tables} tables × 30 days, one partition each` },
    ...s.lines,
  ];
  return { design: 'streaming', lines, totalUsd: sum(lines), warnings: [] };
}

export function estimateMerge(input: CostInput, p: Prices = PRICES): CostEstimate {
  const s = shared(input, p);
  const rb = rowBytes(input.columns);
  // Per group of events (group commit): an INSERT … WHERE NOT EXISTS reading the ingest ids and times of the day's
  // partition (≥ 10 MB for each of its two references to the table), and a MERGE into the online table reading all
  // of it (≥ 10 MB per reference). The partition fills during the day: on average half a day's rows are read.
  const batch = Math.min(input.eventsPerStatement ?? 16, input.eventsPerSecond);
  const statements = s.events / batch;
  const dayRows = s.rows / 30;
  const offlineScan = Math.max(2 * p.queryMinBytesPerTable, (dayRows * 48) / 2);
  const onlineScan = Math.max(2 * p.queryMinBytesPerTable, input.entities * rb);
  const scanned = statements * (offlineScan + onlineScan);
  const lines: CostLine[] = [
    { item: 'DML per batch (offline INSERT + online MERGE)', usd: (scanned / TiB) * p.queryPerTiB, note: `${batch} events per statement; ≥ 10 MB per table reference` },
    ...s.lines.filter((l) => !l.item.startsWith('Online store')),
    { item: 'Online table storage (BigQuery)', usd: (input.entities * rb / GiB) * p.activeStoragePerGiBMonth, note: `${input.entities} entities` },
  ];
  const warnings: string[] = [];
  const perDay = (statements / 30) * 2;
  if (perDay > 1500) {
    warnings.push(`${Math.round(perDay).toLocaleString('en-US')} DML statements a day exceed BigQuery's 1,500 INSERTs per table per day at full concurrency; past them INSERT runs 10 at a time with 100 queued, and the online MERGEs (mutating DML) queue behind a few at a time — at ~1 s per job, more than ~10 events/s per table fail or back up in Pub/Sub`);
  }
  return { design: 'merge', lines, totalUsd: sum(lines), warnings };
}

function sum(lines: CostLine[]): number {
  return lines.reduce((n, l) => n + l.usd, 0);
}
