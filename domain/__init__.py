"""The work model: pure decisions and facts, free of I/O and frameworks.

Each aggregate module holds its commands (imperatives), its events (facts), its state, and two
pure functions: ``decide(command, state, now)`` returns new events or raises a ``DomainError``;
``evolve(state, event)`` is total and never raises, so replaying history cannot fail halfway.
"""
