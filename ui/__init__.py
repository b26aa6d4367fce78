"""Edges people touch: the `recbot` CLI, the Chainlit app and the embeddable widget."""
