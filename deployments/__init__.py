"""Ray Serve deployments (one module per deployment), the MeetingHub actor and the app builder.

Heavy imports (faster-whisper, torch, vLLM) happen inside each deployment's ``__init__`` so the
builder and the Serve controller never load model code.
"""
