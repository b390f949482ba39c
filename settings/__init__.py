"""Process settings: the ``MEETING_*`` environment, read once by every layer."""
