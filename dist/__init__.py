"""dist: a self-hosted release distribution server."""
