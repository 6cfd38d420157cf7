-- 2: The occurrence summary /history and /report read (store/history_common.py). The events
-- already stored are summarized by the history writer when it next starts (history_summary_pending).

CREATE TABLE alert_fingerprints (
    fingerprint TEXT PRIMARY KEY,
    labels TEXT NOT NULL DEFAULT '{}',
    changes INTEGER NOT NULL DEFAULT 0,
    flap_hour INTEGER NOT NULL DEFAULT 0,
    last_change INTEGER NOT NULL DEFAULT 0,
    recent TEXT NOT NULL DEFAULT '[]',
    spans TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE alert_label_values (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, value)
) WITHOUT ROWID;
CREATE TABLE alert_occurrences (
    fingerprint TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER,
    alertname TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT '',
    namespace TEXT NOT NULL DEFAULT '',
    cluster TEXT NOT NULL DEFAULT '',
    service TEXT NOT NULL DEFAULT '',
    silenced INTEGER NOT NULL DEFAULT 0,
    inhibited INTEGER NOT NULL DEFAULT 0,
    receivers TEXT NOT NULL DEFAULT '[]',
    sent INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    changes INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, starts_at)
);
CREATE INDEX alert_occurrences_starts ON alert_occurrences (starts_at, fingerprint);
CREATE INDEX alert_occurrences_ends ON alert_occurrences (ends_at);
CREATE INDEX alert_occurrences_firing ON alert_occurrences (starts_at, fingerprint)
    WHERE ends_at IS NULL;
CREATE INDEX alert_occurrences_alertname ON alert_occurrences (alertname, starts_at);
CREATE INDEX alert_occurrences_namespace ON alert_occurrences (namespace, starts_at);
CREATE TABLE alert_occurrence_annotations (
    fingerprint TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    annotations TEXT NOT NULL,
    search TEXT NOT NULL,
    PRIMARY KEY (fingerprint, starts_at)
);
CREATE TABLE history_summary_pending (upto INTEGER NOT NULL);
INSERT INTO history_summary_pending SELECT COALESCE(MAX(id), 0) FROM history_events;
