"""The networked sandbox's HTTP layer: a transport and thin endpoints around the nodes.

A composition root like `scenarios`: it may wire the switch, banks and wallets together; no domain
package imports it. Endpoints parse, authenticate and call the node; the node decides.
"""
