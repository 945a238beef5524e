"""Source connectors: read one kind of source system, scrub personal data, and land
every row in the raw layer with its lineage. Incremental and idempotent."""
