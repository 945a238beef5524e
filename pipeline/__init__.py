"""The task functions the DAGs call, and the command-line entry points: ingestion and
consolidation (tasks), the report set (reporting), data quality per period (dq),
alerts. No Airflow import at module level: everything here is tested without Airflow."""
