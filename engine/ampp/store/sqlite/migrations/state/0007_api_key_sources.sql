-- 7: source-scoped API keys (ampp.auth.apikeys): the webhook sources a key may post alerts of,
-- a JSON array of names; an empty array is a key that is not scoped.

ALTER TABLE api_keys ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';
