"""The use cases: what the tracker does, one plain function each, the same for every face.

The CLI, ``tracker serve`` and its services, the scheduler's jobs, the
importer and the tests all call these. One calling convention:
``fn(store, *, learner_id, now, ...) -> typed result``: keyword-only arguments,
``now`` always passed in by the caller (only the edges ask ``tracker.clock``),
and a dataclass result whose ``as_dict()`` is its JSON document. A use case
owns its transactions (one write = one ``store.write()``); the rules it applies
live in the domain modules (``tracker.rules``, ``tracker.planner``,
``tracker.progress``, ``tracker.reviews``), never in a command.
"""
