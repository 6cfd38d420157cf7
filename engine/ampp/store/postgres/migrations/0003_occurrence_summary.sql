-- 3: The occurrence summary /history and /report read (store/history_common.py,
-- postgres/history/). The events already stored are summarized right after the migrations
-- (postgres/history/write.py prepare). alert_occurrences_range indexes the same expression as
-- postgres/history/shared.py RANGE: the planner uses it only while the two are identical.

CREATE TABLE alert_fingerprints (
    fingerprint TEXT PRIMARY KEY,
    labels JSONB NOT NULL DEFAULT '{}',
    occurrences INTEGER NOT NULL DEFAULT 0,
    changes INTEGER NOT NULL DEFAULT 0,
    flap_hour SMALLINT NOT NULL DEFAULT 0,
    last_change BIGINT NOT NULL DEFAULT 0,
    recent BIGINT[] NOT NULL DEFAULT '{}',
    spans BIGINT[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE alert_fingerprints IS
    'per alert: its labels, its occurrences, its state changes (for flapping); kept with history_events';
COMMENT ON COLUMN alert_fingerprints.spans IS
    'spans[k]: the shortest time (ns) covering k+1 consecutive state changes, k = 1..16';
CREATE INDEX alert_fingerprints_labels ON alert_fingerprints USING GIN (labels jsonb_path_ops);
CREATE INDEX alert_fingerprints_busiest ON alert_fingerprints (occurrences DESC, fingerprint);
CREATE INDEX alert_fingerprints_flapping ON alert_fingerprints (flap_hour) WHERE flap_hour > 1;
CREATE INDEX alert_fingerprints_flap_hour ON alert_fingerprints (fingerprint) INCLUDE (flap_hour);

CREATE TABLE alert_label_values (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, value)
);

CREATE TABLE alert_occurrences (
    fingerprint TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    alertname TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT '',
    namespace TEXT NOT NULL DEFAULT '',
    cluster TEXT NOT NULL DEFAULT '',
    service TEXT NOT NULL DEFAULT '',
    silenced BOOLEAN NOT NULL DEFAULT false,
    inhibited BOOLEAN NOT NULL DEFAULT false,
    receivers TEXT[] NOT NULL DEFAULT '{}',
    sent INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    changes INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    ttr_bucket SMALLINT,
    duration BIGINT GENERATED ALWAYS AS (ends_at - starts_at) STORED,
    PRIMARY KEY (fingerprint, starts_at)
) WITH (fillfactor = 80);
COMMENT ON TABLE alert_occurrences IS
    'one row per alert occurrence (fingerprint, startsAt), kept with history_events in the same '
    'transaction; times in Unix nanoseconds, ends_at NULL while firing';
CREATE INDEX alert_occurrences_starts ON alert_occurrences (starts_at, fingerprint);
CREATE INDEX alert_occurrences_ends ON alert_occurrences
    ((COALESCE(ends_at, 9223372036854775807)), fingerprint, starts_at);
CREATE INDEX alert_occurrences_duration ON alert_occurrences (duration, fingerprint, starts_at)
    WHERE ends_at IS NOT NULL;
CREATE INDEX alert_occurrences_firing ON alert_occurrences (starts_at, fingerprint)
    INCLUDE (severity, namespace, alertname) WHERE ends_at IS NULL;
CREATE INDEX alert_occurrences_alertname ON alert_occurrences (alertname, starts_at);
CREATE INDEX alert_occurrences_namespace ON alert_occurrences (namespace, starts_at);
CREATE INDEX alert_occurrences_cluster ON alert_occurrences (cluster, starts_at);
CREATE INDEX alert_occurrences_service ON alert_occurrences (service, starts_at);
CREATE INDEX alert_occurrences_range ON alert_occurrences USING GIST ((int8range(starts_at, GREATEST(starts_at, ends_at), '[]')))
    WHERE ends_at IS NOT NULL;
CREATE INDEX alert_occurrences_ttr ON alert_occurrences (ttr_bucket, duration)
    INCLUDE (starts_at, ends_at) WHERE ends_at IS NOT NULL;

CREATE TABLE alert_occurrence_annotations (
    fingerprint TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    annotations JSONB NOT NULL,
    search TEXT NOT NULL,
    PRIMARY KEY (fingerprint, starts_at)
);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not created (%): the q filter will scan', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX alert_occurrence_annotations_search ON alert_occurrence_annotations
            USING GIN (search gin_trgm_ops);
    END IF;
END $$;

-- state changes that had company: how many changes (itself included) the hour before held
CREATE TABLE alert_changes (
    fingerprint TEXT NOT NULL,
    at BIGINT NOT NULL,
    in_hour SMALLINT NOT NULL
);
CREATE INDEX alert_changes_at ON alert_changes (at) INCLUDE (fingerprint, in_hour);

-- rollups for /report, per hour (g = 1, t = Unix ns div 3600e9) and per day (g = 24, t = that
-- div 24): occurrences by when they started, per label value (label '' = all) and per
-- receiver; the histogram of their durations; notifications by when they were attempted;
-- per alert, the most state changes an hour held (alert_changes.in_hour) in the bucket
CREATE TABLE alert_occurrence_rollup (
    g SMALLINT NOT NULL,
    t BIGINT NOT NULL,
    label TEXT NOT NULL,
    value TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (g, t, label, value)
);
CREATE TABLE alert_duration_rollup (
    g SMALLINT NOT NULL,
    t BIGINT NOT NULL,
    bucket SMALLINT NOT NULL,
    n INTEGER NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (g, t, bucket)
);
CREATE TABLE history_notify_rollup (
    g SMALLINT NOT NULL,
    t BIGINT NOT NULL,
    receiver TEXT NOT NULL,
    sent INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    PRIMARY KEY (g, t, receiver)
);
CREATE TABLE alert_flap_rollup (
    g SMALLINT NOT NULL,
    t BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    most SMALLINT NOT NULL,
    PRIMARY KEY (g, t, fingerprint)
);

CREATE INDEX history_events_changes ON history_events (fingerprint, at) INCLUDE (at_ns)
    WHERE kind IN ('alert.firing', 'alert.resolved');
CREATE INDEX history_events_notify_fps ON history_events USING GIN ((details -> 'fingerprints'))
    WHERE kind IN ('notify.sent', 'notify.failed');

CREATE TABLE history_summary_pending (upto BIGINT NOT NULL);
INSERT INTO history_summary_pending SELECT COALESCE(max(id), 0) FROM history_events;
