-- 4: The last batch the history writer process committed (sqlite/history_worker.py), so that
-- a batch whose answer was lost is not written twice.

CREATE TABLE history_writer (last_batch TEXT NOT NULL);
INSERT INTO history_writer VALUES ('');
