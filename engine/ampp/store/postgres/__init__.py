"""PostgreSQL through asyncpg: the production store, shared by replicas.

``storage.PostgresStorage`` is the store (imported only when PostgreSQL is chosen, like
asyncpg itself).
"""
