"""Server-rendered pages (Jinja2 templates, server-side SVG charts, no CDN)."""
