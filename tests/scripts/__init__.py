"""Helpers for the callback tests (tiny models on scikit-learn digits, kill-test script)."""
