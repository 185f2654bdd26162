"""Training cases with a known, injected fault: the demo and the diagnosis benchmark.

(Interface fixed; implementation in progress.)
"""
