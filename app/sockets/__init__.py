"""The browser side of rooms: per-replica socket fan-out and live access checks."""
