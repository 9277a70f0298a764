-- usage_minutes becomes partitioned by RANGE (minute), one partition per calendar month (UTC) named
-- usage_minutes_YYYY_MM, plus usage_minutes_default so a write never fails for want of a partition.
-- Same columns and primary key as before (no column has a default). Monthly partitions are created
-- for every month that holds rows, and, by the server's clock, for the months usage may still be
-- reported for (35 days back) through the next two; the worker's pass creates later months as time
-- goes on (src/modules/usage/maintain-usage-partitions.ts).
ALTER TABLE "usage_minutes" RENAME TO "usage_minutes_unpartitioned";--> statement-breakpoint
ALTER TABLE "usage_minutes_unpartitioned" RENAME CONSTRAINT "usage_minutes_org_id_minute_service_subscription_id_invoice_id_pk" TO "usage_minutes_unpartitioned_pk";--> statement-breakpoint
CREATE TABLE "usage_minutes" (
	"org_id" text NOT NULL,
	"minute" timestamp (3) with time zone NOT NULL,
	"service" text NOT NULL,
	"subscription_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"requests" bigint NOT NULL,
	"latest_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "usage_minutes_org_id_minute_service_subscription_id_invoice_id_pk" PRIMARY KEY("org_id","minute","service","subscription_id","invoice_id")
) PARTITION BY RANGE ("minute");--> statement-breakpoint
CREATE TABLE "usage_minutes_default" PARTITION OF "usage_minutes" DEFAULT;--> statement-breakpoint
-- Months are computed as UTC wall-clock timestamps (timestamp without time zone): adding a month to a
-- timestamptz would follow the session's time zone.
DO $$
DECLARE
  month_start timestamp;
BEGIN
  FOR month_start IN
    SELECT DISTINCT date_trunc('month', "minute" AT TIME ZONE 'UTC') FROM "usage_minutes_unpartitioned"
    UNION
    SELECT generate_series(
      date_trunc('month', (now() AT TIME ZONE 'UTC') - interval '35 days'),
      date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months',
      interval '1 month'
    )
    ORDER BY 1
  LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF "usage_minutes" FOR VALUES FROM (%L) TO (%L)',
      'usage_minutes_' || to_char(month_start, 'YYYY_MM'),
      to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00',
      to_char(month_start + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00'
    );
  END LOOP;
END $$;--> statement-breakpoint
INSERT INTO "usage_minutes" ("org_id", "minute", "service", "subscription_id", "invoice_id", "requests", "latest_at")
SELECT "org_id", "minute", "service", "subscription_id", "invoice_id", "requests", "latest_at" FROM "usage_minutes_unpartitioned";--> statement-breakpoint
DROP TABLE "usage_minutes_unpartitioned";
