"""What the command side and the read side share: settings, the event store, tokens, HTTP edges."""
