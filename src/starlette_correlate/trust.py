"""Trusted sources: which clients may hand us their own correlation ID."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["TrustedSources"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedSources:
    """A set of IP addresses and CIDR ranges whose incoming IDs are accepted.

    Clients outside the set get a fresh ID whatever they send, so an
    untrusted client cannot plant an ID in your logs. Give the addresses of
    your proxies or gateways; with ``uvicorn --proxy-headers`` the client
    address is the one your proxy reports.

    Example::

        >>> trusted = TrustedSources(["10.0.0.0/8", "127.0.0.1", "::1"])
        >>> "10.2.3.4" in trusted, "192.0.2.1" in trusted, None in trusted
        (True, False, False)
        >>> TrustedSources(["10.0.0.0/33"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: trusted_sources: '10.0.0.0/33' is not an IP address or CIDR range...
    """

    __slots__ = ("_cache", "_networks")

    def __init__(self, sources: Iterable[str]) -> None:
        if isinstance(sources, str):
            raise TypeError(
                "trusted_sources: give a list of addresses, e.g. ['10.0.0.0/8'], "
                "not a single string"
            )
        networks: list[_Network] = []
        for source in sources:
            try:
                networks.append(ipaddress.ip_network(str(source).strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"trusted_sources: {source!r} is not an IP address or CIDR "
                    "range (e.g. '10.0.0.0/8' or '::1')"
                ) from None
        if not networks:
            raise ValueError(
                "trusted_sources: the list is empty; pass None to trust every "
                "client, or list the addresses of your proxies"
            )
        self._networks = tuple(networks)
        # Few distinct client addresses reach a service behind proxies;
        # remembering the verdict keeps the check to one dict lookup.
        self._cache: dict[str, bool] = {}

    def __contains__(self, host: object) -> bool:
        """Return whether the client address ``host`` is trusted."""
        if not isinstance(host, str):
            return False
        verdict = self._cache.get(host)
        if verdict is None:
            verdict = self._match(host)
            if len(self._cache) < 4096:
                self._cache[host] = verdict
        return verdict

    def _match(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
        mapped = getattr(address, "ipv4_mapped", None)
        return any(
            address in network or (mapped is not None and mapped in network)
            for network in self._networks
        )

    def __repr__(self) -> str:
        """Show the ranges, for configuration dumps."""
        return f"TrustedSources({[str(n) for n in self._networks]!r})"
