"""Repository tooling: scripts run by the make gates."""
