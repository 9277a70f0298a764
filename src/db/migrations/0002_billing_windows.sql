CREATE TABLE "billing_windows" (
	"subscription_id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE INDEX "billing_windows_org_idx" ON "billing_windows" USING btree ("org_id","started_at");