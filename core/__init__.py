"""The bottom layer: what every other layer shares and nothing here imports from them.

Typed configuration and secrets (settings, environment, config_schema, yaml_files,
connections, settings_doc), reporting periods and regimes (periods, regimes), dates and
files (dates, files), text normalisation and legacy encodings (normalise,
legacy_encoding), personal-data scrubbing (pii), logging setup (logs).
"""
