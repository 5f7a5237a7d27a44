"""The application services of the command API: for each command, the lookups it needs and the
deciders it asks. One module per kind of object, beside the routes of the same name."""
