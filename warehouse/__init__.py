"""The warehouse: schema (raw → canonical layers), engine, and the unit dimension."""
