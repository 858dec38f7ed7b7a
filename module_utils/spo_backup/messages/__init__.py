"""Message catalogues of the notices, one module per language (Python, not data files: the
Ansible modules ship only the Python modules they import)."""
