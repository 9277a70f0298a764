-- Every org-scoped table is keyed by (org_id, …) and every unique index starts with org_id, so a
-- distributed PostgreSQL (Citus) could shard these tables by org_id (docs/scaling.md). Written by hand
-- from drizzle-kit's output: drizzle-kit cannot name the primary keys it drops, nor fill a new column.
-- No foreign key refers to these tables, so the primary keys can be dropped and added again directly.

-- invoice_lines get their invoice's org_id: added nullable, filled, then required.
ALTER TABLE "invoice_lines" ADD COLUMN "org_id" text;--> statement-breakpoint
UPDATE "invoice_lines" l SET "org_id" = i."org_id" FROM "invoices" i WHERE i."id" = l."invoice_id";--> statement-breakpoint
ALTER TABLE "invoice_lines" ALTER COLUMN "org_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "invoice_lines" DROP CONSTRAINT "invoice_lines_invoice_id_position_pk";--> statement-breakpoint
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_org_id_invoice_id_position_pk" PRIMARY KEY("org_id","invoice_id","position");--> statement-breakpoint

-- Primary keys: id → (org_id, id). The id columns stay NOT NULL.
ALTER TABLE "control_planes" DROP CONSTRAINT "control_planes_pkey";--> statement-breakpoint
ALTER TABLE "control_planes" ADD CONSTRAINT "control_planes_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "api_tokens" DROP CONSTRAINT "api_tokens_pkey";--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "login_events" DROP CONSTRAINT "login_events_pkey";--> statement-breakpoint
ALTER TABLE "login_events" ADD CONSTRAINT "login_events_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "system_accounts" DROP CONSTRAINT "system_accounts_pkey";--> statement-breakpoint
ALTER TABLE "system_accounts" ADD CONSTRAINT "system_accounts_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "invitations" DROP CONSTRAINT "invitations_pkey";--> statement-breakpoint
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "teams" DROP CONSTRAINT "teams_pkey";--> statement-breakpoint
ALTER TABLE "teams" ADD CONSTRAINT "teams_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "runtimes" DROP CONSTRAINT "runtimes_pkey";--> statement-breakpoint
ALTER TABLE "runtimes" ADD CONSTRAINT "runtimes_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "payment_methods" DROP CONSTRAINT "payment_methods_pkey";--> statement-breakpoint
ALTER TABLE "payment_methods" ADD CONSTRAINT "payment_methods_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "subscriptions" DROP CONSTRAINT "subscriptions_pkey";--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "invoices" DROP CONSTRAINT "invoices_pkey";--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "payment_attempts" DROP CONSTRAINT "payment_attempts_pkey";--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD CONSTRAINT "payment_attempts_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint
ALTER TABLE "sales_inquiries" DROP CONSTRAINT "sales_inquiries_pkey";--> statement-breakpoint
ALTER TABLE "sales_inquiries" ADD CONSTRAINT "sales_inquiries_org_id_id_pk" PRIMARY KEY("org_id","id");--> statement-breakpoint

-- Unique indexes start with org_id. Invoice numbers stay unique across orgs because they come only
-- from the invoice_numbers sequence.
DROP INDEX "invoices_number_key";--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_org_number_key" ON "invoices" USING btree ("org_id","number");--> statement-breakpoint
DROP INDEX "invoices_one_cycle_per_period";--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_one_cycle_per_period" ON "invoices" USING btree ("org_id","subscription_id","period_index") WHERE kind = 'cycle' and status <> 'void';--> statement-breakpoint
DROP INDEX "invoices_one_final_per_subscription";--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_one_final_per_subscription" ON "invoices" USING btree ("org_id","subscription_id") WHERE kind = 'final';--> statement-breakpoint
DROP INDEX "payment_attempts_one_success";--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_one_success" ON "payment_attempts" USING btree ("org_id","invoice_id") WHERE status = 'succeeded';--> statement-breakpoint
DROP INDEX "payment_attempts_invoice_idx";--> statement-breakpoint
CREATE INDEX "payment_attempts_invoice_idx" ON "payment_attempts" USING btree ("org_id","invoice_id");--> statement-breakpoint

-- Token hashes: callers are found by hash before their org is known, and a unique index without
-- org_id cannot be sharded; the hashes of random secrets do not collide, so a plain index serves.
DROP INDEX "api_tokens_hash_key";--> statement-breakpoint
CREATE INDEX "api_tokens_token_hash_idx" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
DROP INDEX "invitations_token_key";--> statement-breakpoint
CREATE INDEX "invitations_token_hash_idx" ON "invitations" USING btree ("token_hash");--> statement-breakpoint
DROP INDEX "runtimes_token_hash_key";--> statement-breakpoint
CREATE INDEX "runtimes_token_hash_idx" ON "runtimes" USING btree ("token_hash");--> statement-breakpoint

-- Rows still found by id alone: due work names its invoice, subscription or invitation by id, staff
-- mark an invoice paid by id, and usage reports find their runtime and control plane by id.
CREATE INDEX "invoices_id_idx" ON "invoices" USING btree ("id");--> statement-breakpoint
CREATE INDEX "subscriptions_id_idx" ON "subscriptions" USING btree ("id");--> statement-breakpoint
CREATE INDEX "invitations_id_idx" ON "invitations" USING btree ("id");--> statement-breakpoint
CREATE INDEX "runtimes_id_idx" ON "runtimes" USING btree ("id");--> statement-breakpoint
CREATE INDEX "control_planes_id_idx" ON "control_planes" USING btree ("id");--> statement-breakpoint

-- The (org_id, id) primary keys serve every lookup by org these indexes served.
DROP INDEX "api_tokens_org_idx";--> statement-breakpoint
DROP INDEX "invitations_org_idx";--> statement-breakpoint
DROP INDEX "system_accounts_org_idx";--> statement-breakpoint
DROP INDEX "control_planes_org_idx";
