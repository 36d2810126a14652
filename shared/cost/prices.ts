/**
 * List prices the cost estimate (`ctloop infra cost`) uses — ONE place, with their date and sources. US multi-region /
 * us-central1 on-demand list prices in USD, without free tiers (so small rates are overestimated, never hidden).
 * Recorded 2026-12-01 from the pages below as known to the authors; prices change: check the pages before relying
 * on a figure, and update this file (and PRICES_AS_OF) when they differ. Cross-checked on 2026-12-01 against stored
 * copies of public pages (no machine here reaches cloud.google.com): Storage Write API $0.025/GiB with the first
 * 2 TiB a month free, legacy insertAll $0.05/GiB; Firestore multi-region writes $0.18 per 100k (regional US
 * locations list $0.09: the estimate keeps the multi-region figure, an upper bound); Pub/Sub $40/TiB.
 */
export const PRICES_AS_OF = '2026-12-01';

export const PRICES = {
  /** BigQuery Storage Write API ingestion, per GiB. https://cloud.google.com/bigquery/pricing#data_ingestion_pricing */
  storageWriteApiPerGiB: 0.025,
  /** BigQuery on-demand analysis (queries and DML), per TiB scanned. https://cloud.google.com/bigquery/pricing#on_demand_pricing */
  queryPerTiB: 6.25,
  /** Smallest bill of a query or DML statement, per table it references: 10 MB. https://cloud.google.com/bigquery/pricing#on_demand_pricing */
  queryMinBytesPerTable: 10 * 1024 * 1024,
  /** BigQuery active logical storage, per GiB-month. https://cloud.google.com/bigquery/pricing#storage */
  activeStoragePerGiBMonth: 0.02,
  /** Pub/Sub message delivery throughput (publish, and again for each subscription's delivery), per TiB. https://cloud.google.com/pubsub/pricing */
  pubsubPerTiB: 40,
  /** Pub/Sub bills each message at least 1,000 bytes. https://cloud.google.com/pubsub/pricing */
  pubsubMinBytesPerMessage: 1000,
  /** Cloud Run functions (gen2) invocations, per million. https://cloud.google.com/run/pricing */
  functionInvocationsPerMillion: 0.4,
  /** Cloud Run (gen2 functions) vCPU-second and GiB-second, request-based billing, tier 1. https://cloud.google.com/run/pricing */
  vcpuSecond: 0.000024,
  gibSecond: 0.0000025,
  /** Firestore (online store) document writes, per 100,000. https://cloud.google.com/firestore/pricing */
  firestoreWritesPer100k: 0.18,
} as const;

export type Prices = typeof PRICES;
