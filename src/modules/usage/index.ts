export { ingestUsageReport } from './ingest-usage-report.ts';
export {
  billUnbilledRequests,
  billUnbilledRequestsMany,
  latestRequestAt,
  latestRequestsAt,
  releaseBilledRequests,
  setBillingWindow,
  unbilledRequests,
  usageTotals,
} from './usage.repo.ts';
export * from './usage.ts';
