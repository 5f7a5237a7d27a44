"""Publishing the log: the CloudEvents mapping, the Kafka relay, the HTTP feed and its live stream.

These are not read models: they publish every event as it is, in log order. They import neither
the command side nor the projections, only what every side shares (``services.infrastructure``).
"""
