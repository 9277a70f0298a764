ALTER TABLE "due_items" ADD COLUMN "not_before" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "outbox_emails" ADD COLUMN "claimed_until" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "outbox_emails" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox_emails" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "outbox_emails" ADD COLUMN "failed_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "invoices_status_idx" ON "invoices" USING btree ("status","kind");--> statement-breakpoint
CREATE INDEX "audit_events_deactivations_idx" ON "audit_events" USING btree ("reason") WHERE action = 'org.deactivated';--> statement-breakpoint
CREATE INDEX "outbox_emails_queued_idx" ON "outbox_emails" USING btree ("created_at","id") WHERE sent_at is null and failed_at is null;