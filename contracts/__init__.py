"""The public language of workledger: command bodies, answers, and published event schemas.

Nothing here imports the domain or the services, so a downstream team can depend on it alone.
"""
