-- Email locks are kept per deactivated org (lifting one org's lock leaves another's on the same email).
ALTER TABLE "email_locks" DROP CONSTRAINT "email_locks_pkey";--> statement-breakpoint
DELETE FROM "email_locks" WHERE "org_id" IS NULL;--> statement-breakpoint
ALTER TABLE "email_locks" ALTER COLUMN "org_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "email_locks" ADD COLUMN "id" text;--> statement-breakpoint
UPDATE "email_locks" SET "id" = 'elk_' || md5("email" || '/' || "org_id");--> statement-breakpoint
ALTER TABLE "email_locks" ALTER COLUMN "id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "email_locks" ADD PRIMARY KEY ("id");--> statement-breakpoint
CREATE INDEX "orgs_projected_deactivation_idx" ON "orgs" USING btree ("projected_deactivation_at","id") WHERE status = 'active' and plan = 'free';--> statement-breakpoint
CREATE UNIQUE INDEX "email_locks_email_org_key" ON "email_locks" USING btree ("email","org_id");--> statement-breakpoint
CREATE INDEX "email_locks_org_idx" ON "email_locks" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "email_locks_created_idx" ON "email_locks" USING btree ("created_at","id");--> statement-breakpoint
-- Free, active orgs of earlier versions get a t* from their last login and a first inactivity check;
-- the check looks at their traffic and follows the real t*.
UPDATE "orgs" SET "projected_deactivation_at" = coalesce("last_login_at", "created_at") + interval '30 days'
  WHERE "status" = 'active' AND "plan" = 'free' AND "projected_deactivation_at" IS NULL;--> statement-breakpoint
INSERT INTO "due_items" ("id", "kind", "subject_id", "due_at", "status", "attempts", "created_at")
  SELECT 'due_' || md5("id" || '/org_inactivity'), 'org_inactivity', "id", "projected_deactivation_at" - interval '7 days', 'pending', 0, "created_at"
  FROM "orgs" WHERE "status" = 'active' AND "plan" = 'free'
  ON CONFLICT DO NOTHING;
