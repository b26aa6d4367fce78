"""The bottom layer: domain types, loaders, the SQL store, item text, embeddings and the FAISS index."""
