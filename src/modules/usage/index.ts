export { ingestUsageReport } from './ingest-usage-report.ts';
export { usageTotals } from './usage.repo.ts';
export * from './usage.ts';
