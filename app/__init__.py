"""Web layer: FastAPI routes, auth, persistence and the rooms client. Never imports torch."""
