"""The engine: data, checks, search, code generation, toolchain, emulation.

Nothing under this package imports UI code (enforced by an import-linter contract
and by tests/test_architecture.py).
"""
