"""Growth indicators and review statistics for the report, the post and the exports.

Pure modules (``facts``, ``indicators``, ``review_stats``) compute figures from
plain values; ``data`` is the one place that reads them from a database
session, and ``document`` assembles what the renderers in ``tracker.render``
turn into bytes.
"""
