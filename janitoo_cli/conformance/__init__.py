"""`jnt check`: the conformance kit (numbered assertions, a live prober of one node, reports)."""
