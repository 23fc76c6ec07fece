"""Reminders: what a reminder says, when it is due, who may send it, and how it travels.

Below the use cases, like every domain package: ``content`` (pure: plain
values in, a reminder or nothing out), ``schedule`` (pure: when each kind is
due in the learner's time), ``deliveries`` (the claim-once ledger) and
``channels`` (terminal, desktop, email, webhook). The use case that ties them
together is ``tracker.usecases.reminders``; the scheduler that calls it on
time is a service of ``tracker serve`` (``tracker.serve.reminders``).
"""
