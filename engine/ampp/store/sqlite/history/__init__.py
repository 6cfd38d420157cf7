"""History in SQLite (history.db): the summary tables kept on write (write), and /history,
the timeline (read) and /report (report) answered in SQL from them; see store.history_common
for what the tables hold and sqlite/migrations/history for their schema.

JSON columns are TEXT (json_extract, json_each); times are Unix nanoseconds.
"""
