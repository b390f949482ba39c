"""Observability shared by every process: log context on records, the web metrics sink."""
