"""The download pages: HTML renderings of apps and releases (Jinja2 templates, one stylesheet, no JavaScript)."""
