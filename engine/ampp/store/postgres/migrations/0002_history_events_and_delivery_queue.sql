-- 2: Append-only history and the durable delivery queue.

CREATE TABLE history_events (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    at_ns SMALLINT NOT NULL DEFAULT 0 CHECK (at_ns BETWEEN 0 AND 999),
    kind TEXT NOT NULL,
    fingerprint TEXT,
    labels JSONB NOT NULL DEFAULT '{}',
    annotations JSONB NOT NULL DEFAULT '{}',
    group_key TEXT,
    receiver TEXT,
    integration TEXT,
    outcome TEXT,
    latency_ms DOUBLE PRECISION,
    error TEXT,
    silence_id TEXT,
    actor TEXT,
    comment TEXT,
    replica TEXT,
    details JSONB
);
COMMENT ON TABLE history_events IS
    'append-only: alert state changes, notifications sent/failed, silence changes; '
    'deleted only by the retention job, oldest first, in bounded batches';
COMMENT ON COLUMN history_events.kind IS
    'alert.firing, alert.resolved, notify.sent, notify.failed, silence.created, ...';
CREATE INDEX history_events_at ON history_events (at, id);
CREATE INDEX history_events_kind_at ON history_events (kind, at);
CREATE INDEX history_events_fingerprint_at ON history_events (fingerprint, at)
    WHERE fingerprint IS NOT NULL;
CREATE INDEX history_events_receiver_at ON history_events (receiver, at)
    WHERE receiver IS NOT NULL;
CREATE INDEX history_events_silence_at ON history_events (silence_id, at)
    WHERE silence_id IS NOT NULL;
CREATE INDEX history_events_labels ON history_events USING GIN (labels jsonb_path_ops);

CREATE TABLE delivery_queue (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    payload JSONB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'inflight', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_by TEXT,
    claimed_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON COLUMN delivery_queue.key IS
    'idempotency key (group key, receiver, integration, idx, flush); one live row per key';
CREATE UNIQUE INDEX delivery_queue_live_key ON delivery_queue (key)
    WHERE state IN ('pending', 'inflight');
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at) WHERE state = 'pending';
CREATE INDEX delivery_queue_lease ON delivery_queue (claimed_until) WHERE state = 'inflight';
CREATE INDEX delivery_queue_finished ON delivery_queue (updated_at)
    WHERE state IN ('done', 'dead');
