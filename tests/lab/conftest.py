"""The lab tests' fixtures, defined in labhelpers beside their helpers (see
tests/integration/conftest.py for why tests never import conftest)."""

from labhelpers import lab, mailbox, provisioned

__all__ = ["lab", "mailbox", "provisioned"]
