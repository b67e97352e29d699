"""Item pipelines, one concern each: normalise, validate, deduplicate, store."""
