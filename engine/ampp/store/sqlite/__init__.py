"""SQLite (WAL) under ``--storage.path``: the embedded default, nothing to install.

``storage.SQLiteStorage`` is the store. Nothing is imported here: the history writer process
(``history_worker``) starts from this package and needs none of the engine's side.
"""
