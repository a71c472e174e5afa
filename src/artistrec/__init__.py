"""artistrec: similar artists for cold-start artists from their side information."""

__version__ = "0.1.0"
