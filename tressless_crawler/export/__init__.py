"""Exports of the database: read-side queries and streaming file writers."""
