"""Renderers: typed results in, text (or bytes) out; no database, no rules.

Each use case returns a document; the functions here turn it into what a
person reads (plain text with optional colour) or what a program reads (one
JSON document). Commands, ``tracker serve``'s hand-off client and the
reminders all render through here, so a screen reads the same whichever face
produced it.
"""
