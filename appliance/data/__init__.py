"""Stage 1, the data: the home (data directory, store, keys), ingest of catalog, purchases and reviews,
pseudonym-key rotation, versioned artifacts, and the evaluation splits read back from the store.
"""
