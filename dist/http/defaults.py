"""The server's defaults, importable without loading the server (`dist serve --help` shows them)."""

DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 60.0
# Seconds between writes of the download counts gathered in memory.
DEFAULT_COUNTS_INTERVAL = 5.0
