"""Webhooks: signed callbacks for ``completed``, ``failed`` and ``summary`` events.

Layers: ``signing`` (HMAC header), ``schedule`` (retry backoff), ``ssrf`` (which addresses an
outbound request may reach), ``outbox`` (registrations and the delivery rows in the
database), ``dispatcher`` (the loop that claims due rows and sends them). Events are enqueued
in the same transaction that records the job's outcome, so none is lost to a restart.
"""
