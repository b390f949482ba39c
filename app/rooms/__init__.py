"""Real-time rooms: wire messages, the event log behind the hub actor, per-replica fan-out."""
