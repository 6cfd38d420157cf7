"""Access control: identities, roles, authentication (basic, JWT, API keys, proxy headers),
rate limits and the audit log. Nothing here knows about HTTP frameworks; ampp.api applies it."""
