"""Simulated users with hidden targets, the evaluation runner and its reports."""
