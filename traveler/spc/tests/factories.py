"""The spc module serves no tenant-owned records yet: nothing to register for the contract tests."""
