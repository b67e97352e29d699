"""Analysis-ready data: full-text search, Parquet and SQLite copies, the Datasette browser.

The views and the search index themselves are made by migration 0007.
"""
