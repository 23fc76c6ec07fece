"""Renderers: typed documents in, bytes out. No database, no clock, no rule.

The report family lives in modules of its own: ``report_md`` (Markdown with
ten-cell bars), ``post`` (the Jekyll journal post), ``report_html`` (one
self-contained page with inline SVG from Jinja2 templates in ``templates/``),
``report_data`` (JSON and CSV), ``ics`` (iCalendar) and ``apkg`` (an Anki
deck). Every label comes from ``messages``.
"""
