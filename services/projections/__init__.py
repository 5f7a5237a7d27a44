"""The read side: projection workers, read models, the query API, the event relay and feed."""
