"""What the ``scrapy`` commands share: exit codes, one-line errors, the log a user sees."""
