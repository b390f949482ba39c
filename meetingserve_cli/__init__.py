"""``meetingserve``: the command-line client of the platform (REST over httpx, rooms and live
audio over websockets, typer + rich for the interface).

Self-contained on purpose: it talks to a server over the documented protocol and imports
nothing from the server's layers except the model-free audio decoder (``core.audio``).
"""
