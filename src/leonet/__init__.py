"""leonet: a fast, open digital twin of a Starlink-like LEO satellite internet system.

The public API is in `leonet.api`.
"""

__version__ = "0.1.0"
