"""Offline work: building, training, enrichment, fine-tuning exports and evaluations.

Sits between the user interfaces and the runtime layers (``ui → jobs → simulations → agent →
tools → ranker → catalog``): a job may use the agent (e.g. to replay real dialogues), but the
agent never imports a job.
"""
