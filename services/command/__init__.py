"""The write side: the HTTP command API, the command handler, authorisation and the scheduler."""
