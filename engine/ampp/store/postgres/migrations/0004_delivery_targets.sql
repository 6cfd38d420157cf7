-- 4: The delivery queue's target as columns (one notification per target in flight, listing
-- by receiver) and why a finished row is done.

ALTER TABLE delivery_queue
    ADD COLUMN group_key TEXT,
    ADD COLUMN receiver TEXT,
    ADD COLUMN integration TEXT,
    ADD COLUMN idx INTEGER,
    ADD COLUMN outcome TEXT;
COMMENT ON COLUMN delivery_queue.outcome IS
    'why a done row is done: sent, superseded (by a newer flush) or recorded (nothing to send)';
CREATE INDEX delivery_queue_target ON delivery_queue (group_key, receiver, integration, idx, id);
CREATE INDEX delivery_queue_state ON delivery_queue (state, id);
CREATE INDEX delivery_queue_receiver ON delivery_queue (receiver, state, id);
