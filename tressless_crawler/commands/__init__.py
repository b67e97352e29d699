"""The project's ``scrapy`` commands (COMMANDS_MODULE).

Scrapy imports this package for every command it runs in the project, so credentials are
masked from here on in every log record and uncaught traceback of every command, not only
of crawls (where the ``RedactCredentials`` add-on does it too).
"""

from tressless_crawler.redact import install_log_redaction

install_log_redaction()
