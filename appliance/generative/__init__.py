"""Stage 4, the generative recommender (Semantic Convergence, Li et al., AAAI 2025; TIGER, Rajput et al.,
NeurIPS 2023): quantizers and semantic IDs, the code tokenizer, alignment tasks, the trie, the LM and its training.
"""
