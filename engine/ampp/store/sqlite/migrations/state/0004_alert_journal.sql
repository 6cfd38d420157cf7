-- 4: Alert changes are appended to a journal and folded into alerts later (sqlite/alert_journal.py).

CREATE TABLE alert_journal (
    seq INTEGER PRIMARY KEY,
    changes INTEGER NOT NULL,
    doc TEXT NOT NULL
);
