"""Stand-ins for the real source systems of Hà Nội (docs/simulated-sources.md).

- ``generate``: writes the commune Excel registers, the district SQLite databases, the
  backing store of the city JSON service and the ground truth a correct pipeline must
  reproduce, all deterministically from a seed.
- ``city_server``: the city JSON web service (FastAPI) over that backing store.

The sources follow docs/data-contracts.md exactly; the ground truth is written from the
generator's internal model, never by re-reading the sources.
"""
