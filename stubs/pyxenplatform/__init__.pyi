"""Type-only view of the package for stub-first tools; see tests/abi_stub.py."""
