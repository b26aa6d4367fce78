"""Offline ranking: the PyTorch DNN ranker, its training, baselines and offline metrics (issue 3)."""
