import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SourceFreshness } from '@recomart/lake';
import type { ProcessorMetrics } from './processor.js';

/** Queue counts by state, read when /metrics is scraped. */
export type QueueCountsReader = () => Promise<Array<{ source: string; counts: Record<string, number> }>>;

/** Per source, the lake's freshness, read when /metrics is scraped (`sourceFreshness`). */
export type FreshnessReader = () => Promise<ReadonlyArray<Pick<SourceFreshness, 'source' | 'newestPartitionTimestampSeconds' | 'missing'>>>;

/** The worker's Prometheus metrics (a registry of its own, no globals). */
export class WorkerMetrics implements ProcessorMetrics {
  readonly registry = new Registry();
  private readonly jobs = new Counter({ name: 'recomart_jobs_total', help: 'Ingest job attempts by outcome', labelNames: ['source', 'outcome'], registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'recomart_job_duration_seconds',
    help: 'Ingest job attempt duration',
    labelNames: ['source', 'outcome'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [this.registry],
  });
  private readonly bytes = new Counter({ name: 'recomart_ingested_bytes_total', help: 'Bytes committed to the lake', labelNames: ['source'], registers: [this.registry] });
  private readonly rows = new Counter({ name: 'recomart_ingested_rows_total', help: 'Records committed to the lake', labelNames: ['source'], registers: [this.registry] });
  private readonly rejected = new Counter({ name: 'recomart_rejected_rows_total', help: 'Rows quarantined as rejected', labelNames: ['source'], registers: [this.registry] });

  /**
   * @param readCounts queue counts by state, read at each scrape
   * @param readFailedForGood partitions whose job failed for good and that the lake does not have (`listFailedForGood`), read at each scrape
   * @param readFreshness the lake's freshness per source (`lakeFreshness`), read at each scrape
   */
  constructor(readCounts?: QueueCountsReader, readFailedForGood?: () => Promise<ReadonlyArray<{ source: string }>>, readFreshness?: FreshnessReader) {
    if (readFreshness) this.lakeFreshnessGauges(readFreshness);
    if (readFailedForGood) {
      new Gauge({
        name: 'recomart_partitions_failed_for_good',
        help: 'Partitions whose ingest job failed for good and that the lake does not have: waiting for an operator (retry, or enqueue --reprocess)',
        labelNames: ['source'],
        registers: [this.registry],
        async collect() {
          this.reset();
          const bySource = new Map<string, number>();
          for (const { source } of await readFailedForGood()) bySource.set(source, (bySource.get(source) ?? 0) + 1);
          for (const [source, n] of bySource) this.set({ source }, n);
        },
      });
    }
    if (readCounts) {
      new Gauge({
        name: 'recomart_queue_jobs',
        help: 'Jobs in each ingest queue by state',
        labelNames: ['source', 'state'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const { source, counts } of await readCounts()) {
            for (const [state, n] of Object.entries(counts)) this.set({ source, state }, n);
          }
        },
      });
    }
  }

  /**
   * `recomart_lake_newest_partition_timestamp_seconds{source}` (the start of
   * the newest committed partition day, PARTITION_TZ; absent while nothing is committed) and
   * `recomart_lake_missing_partitions{source}` (dates missing in the last
   * CATCH_UP_DAYS); both read from the lake at scrape time, so they see every
   * worker's commits. The alert rule is in docs/alerts.md.
   */
  private lakeFreshnessGauges(read: FreshnessReader): void {
    // One lake read per scrape feeds both gauges.
    let pending: ReturnType<FreshnessReader> | undefined;
    const once = (): ReturnType<FreshnessReader> => {
      pending ??= read().finally(() => {
        pending = undefined;
      });
      return pending;
    };
    new Gauge({
      name: 'recomart_lake_newest_partition_timestamp_seconds',
      help: 'Start of the newest partition day (PARTITION_TZ) with a committed version, per source',
      labelNames: ['source'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const f of await once()) if (f.newestPartitionTimestampSeconds !== null) this.set({ source: f.source }, f.newestPartitionTimestampSeconds);
      },
    });
    new Gauge({
      name: 'recomart_lake_missing_partitions',
      help: 'Logical dates with no committed version among the last CATCH_UP_DAYS, per source',
      labelNames: ['source'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const f of await once()) this.set({ source: f.source }, f.missing.length);
      },
    });
  }

  outcome(source: string, outcome: 'committed' | 'unchanged' | 'failed' | 'retry', durationMs: number): void {
    this.jobs.inc({ source, outcome });
    this.duration.observe({ source, outcome }, durationMs / 1000);
  }

  ingested(source: string, bytes: number, rows: number, rejected: number): void {
    this.bytes.inc({ source }, bytes);
    this.rows.inc({ source }, rows);
    this.rejected.inc({ source }, rejected);
  }
}
