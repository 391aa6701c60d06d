"""Bounds the REST API puts on what one call may carry (the OpenAPI document states them too)."""

# Chat caps a command line at 2,000 characters; a JSON body needs its own bounds.
MAX_SIGNALS = 100
MAX_SIGNAL_TEXT = 64  # a signal's key or value
