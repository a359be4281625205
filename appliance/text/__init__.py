"""Stage 2, text: item and user text profiles, the local text encoder (Sentence-BERT mean pooling), item
embeddings, and intent extraction with readable labels (IRLLRec, Wang et al., SIGIR 2025).
"""
