"""Benchmarks: in-process overhead, logging filter, memory, real HTTP.

``make bench`` runs :mod:`bench.inprocess`; ``make bench-http`` runs
:mod:`bench.http`. See ``docs/performance.md`` for the method and figures.
"""
