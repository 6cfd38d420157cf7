-- 2: The durable delivery queue (the same table as PostgreSQL's). Times are Unix nanoseconds.

CREATE TABLE delivery_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'inflight', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX delivery_queue_live_key ON delivery_queue (key)
    WHERE state IN ('pending', 'inflight');
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at) WHERE state = 'pending';
CREATE INDEX delivery_queue_lease ON delivery_queue (claimed_until) WHERE state = 'inflight';
CREATE INDEX delivery_queue_finished ON delivery_queue (updated_at)
    WHERE state IN ('done', 'dead');
