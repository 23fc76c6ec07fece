"""Renderers: documents in, text or bytes out; no business rules, no database."""
