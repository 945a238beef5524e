"""Glue shared by the DAGs and the command-line entry points: configuration, secrets,
logging and alerting. No Airflow import at module level, so everything here is usable
(and tested) without Airflow."""
