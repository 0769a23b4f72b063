"""landcheck: satellite-patrol parcel screening."""

from landcheck._version import __version__

__all__ = ["__version__"]
