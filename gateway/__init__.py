"""The networked sandbox's HTTP layer: a transport and thin endpoints around the nodes.

Endpoints parse, authenticate and call the node; the node decides. Nodes are built by `network`.
"""
