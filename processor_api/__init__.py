"""The typed interface between the web layer and the Processor: requests, replies, errors.

Written once; the in-process ``LocalBackend`` and the Ingress's ``ServeBackend`` implement it.
"""
