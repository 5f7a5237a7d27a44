"""The running system: the command side, the read side, and the wiring they share."""
