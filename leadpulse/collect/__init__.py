"""HTTP intake of tracker batches: the wire schema, limits, write-key origin checks, rate limits.

Decoding is strict and names the offending field; nothing here touches storage.
"""
