"""Storage: what the engine keeps so that a restart or kill -9 loses nothing.

- ``base``: the records every backend stores and the Storage interface the engine uses;
- ``delivery_common``, ``history_common``: the rules and maths the backends share, written once
  (the delivery queue's invariants; the history summary and the /history WHERE clause);
- ``history_query``: a /history query and the answers the backends give;
- ``sqlite/``: the embedded default (``sqlite.storage.SQLiteStorage``);
- ``postgres/``: the production store replicas share (``postgres.storage.PostgresStorage``);
- ``factory``: which backend the flags and config.yaml choose; ``writebehind``: group commit
  of alert changes; ``codec``: time and row encodings.
"""
