-- Every API process keeps callers and billing snapshots in memory; these triggers tell every process
-- which orgs changed. Statement-level, so a batch of a thousand rows sends one notice, delivered on
-- commit (a rolled-back change sends none). The payload is the changed org ids, comma-separated, or
-- '*' (forget everything) when there are too many for one notice.
CREATE FUNCTION tierline_notify_org_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_count integer;
  org_ids text;
BEGIN
  EXECUTE format('SELECT count(DISTINCT %1$I), string_agg(DISTINCT %1$I, '','') FROM changed_rows', TG_ARGV[0])
    INTO changed_count, org_ids;
  IF changed_count > 0 THEN
    PERFORM pg_notify('tierline_org_changed', CASE WHEN changed_count > 200 THEN '*' ELSE org_ids END);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- For orgs, only what the cached reads show: status (a deactivated org's tokens are refused) and plan.
CREATE FUNCTION tierline_notify_org_status_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_count integer;
  org_ids text;
BEGIN
  SELECT count(*), string_agg(n.id, ',') INTO changed_count, org_ids
    FROM changed_rows n JOIN previous_rows p ON p.id = n.id
    WHERE n.status IS DISTINCT FROM p.status OR n.plan IS DISTINCT FROM p.plan;
  IF changed_count > 0 THEN
    PERFORM pg_notify('tierline_org_changed', CASE WHEN changed_count > 200 THEN '*' ELSE org_ids END);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER orgs_notify_update AFTER UPDATE ON orgs
  REFERENCING OLD TABLE AS previous_rows NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tierline_notify_org_status_changes();
--> statement-breakpoint
CREATE TRIGGER orgs_notify_delete AFTER DELETE ON orgs
  REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tierline_notify_org_changes('id');
--> statement-breakpoint
DO $$
DECLARE
  watched text;
BEGIN
  FOREACH watched IN ARRAY ARRAY['api_tokens', 'memberships', 'member_roles', 'team_members', 'teams',
    'system_accounts', 'subscriptions', 'payment_methods', 'invoices']
  LOOP
    EXECUTE format('CREATE TRIGGER %1$I AFTER INSERT ON %2$I REFERENCING NEW TABLE AS changed_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION tierline_notify_org_changes(''org_id'')', watched || '_notify_insert', watched);
    EXECUTE format('CREATE TRIGGER %1$I AFTER UPDATE ON %2$I REFERENCING NEW TABLE AS changed_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION tierline_notify_org_changes(''org_id'')', watched || '_notify_update', watched);
    EXECUTE format('CREATE TRIGGER %1$I AFTER DELETE ON %2$I REFERENCING OLD TABLE AS changed_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION tierline_notify_org_changes(''org_id'')', watched || '_notify_delete', watched);
  END LOOP;
END
$$;
