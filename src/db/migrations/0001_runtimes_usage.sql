CREATE TABLE "runtimes" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"control_plane_id" text NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"token_prefix" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "usage_minutes" (
	"org_id" text NOT NULL,
	"minute" timestamp (3) with time zone NOT NULL,
	"service" text NOT NULL,
	"subscription_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"requests" bigint NOT NULL,
	CONSTRAINT "usage_minutes_org_id_minute_service_subscription_id_invoice_id_pk" PRIMARY KEY("org_id","minute","service","subscription_id","invoice_id")
);
--> statement-breakpoint
CREATE TABLE "usage_reports" (
	"org_id" text NOT NULL,
	"runtime_id" text NOT NULL,
	"report_id" text NOT NULL,
	"records" integer NOT NULL,
	"requests" bigint NOT NULL,
	"received_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "usage_reports_org_id_runtime_id_report_id_pk" PRIMARY KEY("org_id","runtime_id","report_id")
);
--> statement-breakpoint
ALTER TABLE "control_planes" ADD COLUMN "config" jsonb DEFAULT '{"routes":[]}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "control_planes" ADD COLUMN "config_version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "last_request_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "runtimes_token_hash_key" ON "runtimes" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "runtimes_org_idx" ON "runtimes" USING btree ("org_id","created_at");