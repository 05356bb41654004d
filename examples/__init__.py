"""Example host services and the demo that drives them."""
