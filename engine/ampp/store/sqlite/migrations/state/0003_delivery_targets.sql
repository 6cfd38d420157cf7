-- 3: The delivery queue's target as columns (claims keep one notification per target in
-- flight, the API lists by receiver) and why a finished row is done.

ALTER TABLE delivery_queue ADD COLUMN group_key TEXT;
ALTER TABLE delivery_queue ADD COLUMN receiver TEXT;
ALTER TABLE delivery_queue ADD COLUMN integration TEXT;
ALTER TABLE delivery_queue ADD COLUMN idx INTEGER;
ALTER TABLE delivery_queue ADD COLUMN outcome TEXT;
CREATE INDEX delivery_queue_target ON delivery_queue (group_key, receiver, integration, idx, id);
CREATE INDEX delivery_queue_state ON delivery_queue (state, id);
CREATE INDEX delivery_queue_receiver ON delivery_queue (receiver, state, id);
