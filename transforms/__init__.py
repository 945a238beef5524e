"""Raw → validated → warehouse: the canonical model (canonical), quality decisions from
the committed suites (quality), and the steps that run them against the warehouse —
consolidation (consolidate, qlkntc), completeness and outliers (docs/architecture.md)."""
