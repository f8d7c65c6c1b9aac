"""Content packs: the instruments (surveys and tests) as validated YAML data."""
