export { ingestUsageReport } from './ingest-usage-report.ts';
export { latestRequestAt, usageTotals } from './usage.repo.ts';
export * from './usage.ts';
