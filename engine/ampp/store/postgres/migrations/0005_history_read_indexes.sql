-- 5: Indexes that let /history counts and /report read indexes instead of rows (built over the
-- rows already there). The label columns were indexed already, so no occurrence update loses
-- HOT; only a flap rollup's maximum rising past 2 now updates an index.

-- every label column, nothing else: a /history count restricted to label values (filters,
-- matchers) reads this index alone instead of one heap page per match, whatever the
-- combination (the leading column narrows, the others filter inside the index); one entry
-- per distinct label set once deduplicated, so a whole scan of it stays small
CREATE INDEX alert_occurrences_labels ON alert_occurrences
    (cluster, namespace, service, alertname, severity);
-- /report flapping for a threshold of 2 or more (the default is 3): the few rollup rows that
-- can qualify, without the many alerts that changed just twice in an hour
CREATE INDEX alert_flap_rollup_above2 ON alert_flap_rollup (g, t) INCLUDE (fingerprint, most)
    WHERE most > 2;
-- /report silences created by whom, without reading each event
CREATE INDEX history_events_silence_created ON history_events (at) INCLUDE (at_ns, actor)
    WHERE kind = 'silence.created';
