"""The domain of dist: entities, value rules and errors. Pure Python, no framework."""
