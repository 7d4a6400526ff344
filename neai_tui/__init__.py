"""neai-tui: a terminal-native NanoEdge AI Studio."""

__version__ = "0.1.0"
