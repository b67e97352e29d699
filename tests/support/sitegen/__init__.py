"""The fixture site's generator: page data, markup families, the builder."""
