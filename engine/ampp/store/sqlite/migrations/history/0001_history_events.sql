-- 1: Append-only history (the same columns as PostgreSQL's history_events). Times are Unix
-- nanoseconds. JSON columns hold TEXT (bind str, not bytes) so that SQLite's json_extract and
-- json_each work on them.

CREATE TABLE history_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    fingerprint TEXT,
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    group_key TEXT,
    receiver TEXT,
    integration TEXT,
    outcome TEXT,
    latency_ms REAL,
    error TEXT,
    silence_id TEXT,
    actor TEXT,
    comment TEXT,
    replica TEXT,
    details TEXT
);
CREATE INDEX history_events_at ON history_events (at, id);
CREATE INDEX history_events_kind_at ON history_events (kind, at);
CREATE INDEX history_events_fingerprint_at ON history_events (fingerprint, at)
    WHERE fingerprint IS NOT NULL;
CREATE INDEX history_events_receiver_at ON history_events (receiver, at)
    WHERE receiver IS NOT NULL;
CREATE INDEX history_events_silence_at ON history_events (silence_id, at)
    WHERE silence_id IS NOT NULL;
CREATE INDEX history_events_alertname_at ON history_events (json_extract(labels, '$.alertname'), at);
