"""Collection settings for the support modules."""

# The daphne app module configures logging when imported, as the guide's
# recipe does; --doctest-modules would import it into the test session.
collect_ignore = ["server_app_daphne.py"]
