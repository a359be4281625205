"""Stage 3, recommendation models: the Recommender contract, the model registry, ranking metrics and the
evaluation harness, the baselines, SASRec, LightGCN and IRLLRec with its intent losses, and the BPR loop.
"""
