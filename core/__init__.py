"""Model-free core: audio windowing, alignment, speaker linking and exports.

Imports without Ray, torch or CUDA so it can be unit tested and reused anywhere.
"""
