"""Incremental crawls: what may have changed since the database last saw it."""
