"""Optional integrations, one module per package they work with.

Nothing here is imported by the core, and this package imports no optional
dependency: import the module you need, e.g.
``starlette_correlate.integrations.celery``. Each module imports its package
when it is imported and, if the package is missing, raises ``ImportError``
naming the extra to install (``pip install starlette-correlate[celery]``).
"""
