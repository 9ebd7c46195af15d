"""Datasets: molecules (RDKit) and social cascades."""
