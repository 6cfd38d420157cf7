-- 5: Claims and enqueues answered from indexes alone (sqlite/delivery.py).
--
-- A row's columns after its payload (the state, and the target columns migration 3 added)
-- are reached by walking the payload's overflow pages: a megabyte for a group of 2,000 alerts.
-- The claim's check for an older live row of the same target read every done row of that
-- target this way, a cost growing with each notification sent (half the engine's time under
-- sustained load); finding the due rows and the next due time read the pending rows' payloads.
-- Now the live rows of each target, the due rows and the expired leases are partial indexes
-- holding every column those queries read (state too: SQLite checks a partial index's
-- condition on the row otherwise).

CREATE INDEX delivery_queue_live_target ON delivery_queue (group_key, receiver, integration, idx, id, state)
    WHERE state IN ('pending', 'inflight');

CREATE INDEX delivery_queue_due_target ON delivery_queue
    (next_attempt_at, id, group_key, receiver, integration, idx, state) WHERE state = 'pending';

CREATE INDEX delivery_queue_lease_target ON delivery_queue
    (claimed_until, id, next_attempt_at, group_key, receiver, integration, idx, state)
    WHERE state = 'inflight';

DROP INDEX delivery_queue_due;

DROP INDEX delivery_queue_lease;
