"""Tanaban core library: config, store, ingest, evaluation, models, audit log, egress gateway and serving."""

__version__ = "0.1.0"
