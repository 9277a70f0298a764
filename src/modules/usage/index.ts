export {
  type DroppedUsageMonth,
  dropExpiredUsagePartitions,
  type KeptUsageMonth,
} from './drop-expired-usage-partitions.ts';
export { ingestUsageReport } from './ingest-usage-report.ts';
export { maintainUsagePartitions } from './maintain-usage-partitions.ts';
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
