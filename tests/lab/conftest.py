"""The lab tests' fixtures, defined in labhelpers beside their helpers (see
tests/integration/conftest.py for why tests never import conftest)."""

from mirrorhelpers import mirrored

from labhelpers import hooks, lab, mailbox, provisioned

__all__ = ["hooks", "lab", "mailbox", "mirrored", "provisioned"]
