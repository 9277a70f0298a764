CREATE TABLE "usage_state" (
	"org_id" text PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"window_started_at" timestamp (3) with time zone
);
--> statement-breakpoint
DROP TABLE "billing_windows" CASCADE;--> statement-breakpoint
ALTER TABLE "usage_minutes" ADD COLUMN "latest_at" timestamp (3) with time zone;--> statement-breakpoint
UPDATE "usage_minutes" SET "latest_at" = "minute" + interval '59.999 seconds';--> statement-breakpoint
ALTER TABLE "usage_minutes" ALTER COLUMN "latest_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "orgs" DROP COLUMN "last_request_at";