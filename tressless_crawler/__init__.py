"""The tressless.com crawler: a Scrapy project (settings in ``tressless_crawler.settings``)."""
