"""Delivery: issued reports leave the pipeline (e-mail to officers, delivery records)."""
