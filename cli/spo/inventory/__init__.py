"""Site inventories: read them with the line of every key, check them against the SPO policy.

`spo inventory check PATH` is the command; `check.check_inventory` is the function behind it.
"""
