"""The database: models, migrations, the one write path of crawled data, runs and locks."""
