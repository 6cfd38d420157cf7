"""History in PostgreSQL: the summary tables kept on write (write), and /history, the
timeline (read) and /report (report) answered in SQL from them; see store.history_common for
what the tables hold and postgres/migrations for their schema.

Summary times are BIGINT Unix nanoseconds (``to_timestamp(starts_at / 1e9)`` for a human);
``history_events`` keeps its ``timestamptz`` + ``at_ns``.
"""
