"""History from elsewhere, as lines of the import format: the demo organisation and Jira.

Everything here speaks the public API alone (command paths and bodies from ``contracts``): what it
makes is a stream of import lines that ``workledger import`` or ``POST /v1/import`` runs through
the same deciders as live commands.
"""
