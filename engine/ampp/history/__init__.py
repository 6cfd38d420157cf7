"""History: append-only events (recorder), the /history and /report queries, and their cache."""
