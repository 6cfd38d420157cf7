-- 1: The engine's own state (what the SQLite store keeps, same meaning). Times are timestamptz
-- (microseconds) plus a *_ns column with the nanoseconds beyond (postgres/storage.py).

CREATE TABLE alerts (
    fingerprint TEXT PRIMARY KEY,
    labels JSONB NOT NULL,
    annotations JSONB NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    starts_at_ns SMALLINT NOT NULL CHECK (starts_at_ns BETWEEN 0 AND 999),
    ends_at TIMESTAMPTZ NOT NULL,
    ends_at_ns SMALLINT NOT NULL CHECK (ends_at_ns BETWEEN 0 AND 999),
    generator_url TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_at_ns SMALLINT NOT NULL CHECK (updated_at_ns BETWEEN 0 AND 999),
    timeout BOOLEAN NOT NULL
);
COMMENT ON COLUMN alerts.starts_at_ns IS 'nanoseconds beyond the microsecond in starts_at';
CREATE INDEX alerts_labels ON alerts USING GIN (labels);
CREATE INDEX alerts_ends_at ON alerts (ends_at);

CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    matchers JSONB NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    starts_at_ns SMALLINT NOT NULL CHECK (starts_at_ns BETWEEN 0 AND 999),
    ends_at TIMESTAMPTZ NOT NULL,
    ends_at_ns SMALLINT NOT NULL CHECK (ends_at_ns BETWEEN 0 AND 999),
    updated_at TIMESTAMPTZ NOT NULL,
    updated_at_ns SMALLINT NOT NULL CHECK (updated_at_ns BETWEEN 0 AND 999),
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    annotations JSONB NOT NULL DEFAULT '{}'
);
COMMENT ON COLUMN silences.matchers IS 'API v2 shape: [{"name","value","isRegex","isEqual"}]';
CREATE INDEX silences_ends_at ON silences (ends_at);

CREATE TABLE nflog (
    group_key TEXT NOT NULL,
    receiver TEXT NOT NULL,
    integration TEXT NOT NULL,
    idx INTEGER NOT NULL,
    firing JSONB NOT NULL,
    resolved JSONB NOT NULL,
    "timestamp" TIMESTAMPTZ NOT NULL,
    timestamp_ns SMALLINT NOT NULL CHECK (timestamp_ns BETWEEN 0 AND 999),
    expires_at TIMESTAMPTZ NOT NULL,
    expires_at_ns SMALLINT NOT NULL CHECK (expires_at_ns BETWEEN 0 AND 999),
    PRIMARY KEY (group_key, receiver, integration, idx)
);
COMMENT ON COLUMN nflog.firing IS 'sorted alert fingerprints (uint64 numbers)';
CREATE INDEX nflog_expires_at ON nflog (expires_at);
