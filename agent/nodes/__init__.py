"""Node bodies of the agent graph; ``agent/graph.py`` wires them."""
