"""The download pages: HTML renderings of apps and releases (Jinja2 templates, one stylesheet, no JavaScript)."""

# Where distd serves the stylesheet (a route, and every page's link). Kept here, beside the package's docstring,
# so that the server can name the route without importing the templates' renderer.
STYLESHEET_PATH = "/static/dist.css"
