"""Pure transformations (no I/O): text and value normalisation, personal-data scrubbing,
mapping source rows to the canonical model, consolidation rules."""
