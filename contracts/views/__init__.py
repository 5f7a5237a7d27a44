"""The shapes of the read-model views, as the query API answers them."""
