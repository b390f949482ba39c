"""Real-time rooms: wire messages, close codes, the hub's event log, shards, publishing.

Shared by the hub actor, the Processor and the web layer's fan-out; free of FastAPI and Ray.
"""
