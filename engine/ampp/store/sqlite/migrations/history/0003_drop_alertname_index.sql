-- 3: /history reads alertname from alert_occurrences: this index of every event's labels only
-- cost each insert a JSON parse and a random-key write.

DROP INDEX IF EXISTS history_events_alertname_at;
