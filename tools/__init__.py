"""LangChain tools over the retriever, filters, ranker and item lookup, and the hallucination guard."""
