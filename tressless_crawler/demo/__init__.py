"""The bundled fixture site and the server that serves it (``scrapy demo``, the tests)."""
