"""Trusted sources: which clients' incoming IDs are believed."""

from __future__ import annotations

from starlette_correlate import TrustedSources


def test_ipv4_mapped_clients_match_ipv4_ranges() -> None:
    trusted = TrustedSources(["10.0.0.0/8"])
    assert "::ffff:10.1.2.3" in trusted
    assert "::ffff:192.0.2.1" not in trusted
