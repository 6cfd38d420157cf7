-- 1: The engine's own state: the active alerts, silences and the notification log.
-- Times are Unix nanoseconds (text beyond int64, see store/codec.py); labels, annotations and
-- matchers are JSON.

CREATE TABLE alerts (
    fingerprint TEXT PRIMARY KEY,
    labels BLOB NOT NULL,
    annotations BLOB NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    generator_url TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    timeout INTEGER NOT NULL
);
CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    matchers BLOB NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL
);
CREATE TABLE nflog (
    group_key TEXT NOT NULL,
    receiver TEXT NOT NULL,
    integration TEXT NOT NULL,
    idx INTEGER NOT NULL,
    firing BLOB NOT NULL,
    resolved BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (group_key, receiver, integration, idx)
);
