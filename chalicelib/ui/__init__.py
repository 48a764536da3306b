"""The web UI: static HTML, CSS and JavaScript modules served by the API's own app under /ui/.

Everything the pages show comes from the public API of the same origin; nothing here reads a table.
"""
