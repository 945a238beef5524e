"""Stand-ins for the real source systems of a province — Hà Nội by default, any of the
34 since 01/07/2025, or all of them (docs/simulated-sources.md).

- ``generate``: writes the commune Excel registers, the district SQLite databases, the
  backing store of the city JSON service and the ground truth a correct pipeline must
  reproduce, all deterministically from a seed; ``--province``, ``--provinces``,
  ``--size`` (``sizes``) choose what, ``population`` scales the volumes.
- ``city_server``: the city JSON web service (FastAPI) over that backing store.

The sources follow docs/data-contracts.md exactly; the ground truth is written from the
generator's internal model, never by re-reading the sources.
"""
