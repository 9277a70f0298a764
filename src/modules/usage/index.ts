export { ingestUsageReport } from './ingest-usage-report.ts';
export {
  billUnbilledRequests,
  latestRequestAt,
  releaseBilledRequests,
  setBillingWindow,
  unbilledRequests,
  usageTotals,
} from './usage.repo.ts';
export * from './usage.ts';
