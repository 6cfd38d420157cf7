"""Storage: what the engine keeps so that a restart or kill -9 loses nothing.

- ``base``: the narrow Protocols each part of the engine stores through (alerts, silences,
  notification log, deliveries, history log and reader) and ``Storage``, all of them;
- ``records``: the notification-log entries and history events every backend stores;
- ``delivery_common``, ``history_common``: the rules and maths the backends share, written once
  (the delivery queue's invariants and enqueue decision; the history summary and the
  /history WHERE clause);
- ``history_query``: a /history query and the answers the backends give;
- ``sqlite/``, ``postgres/``: the embedded default (``sqlite.storage.SQLiteStorage``) and the
  production store replicas share (``postgres.storage.PostgresStorage``), each with its
  ``delivery`` queue, its ``history/`` (``write``, ``read``, ``report``) and its ``schema``,
  whose versions are the SQL files of its ``migrations/`` (see ``migrations``);
- ``factory``: which backend the flags and config.yaml choose; ``writebehind``: group commit
  of alert changes; ``codec``: time and row encodings.
"""
