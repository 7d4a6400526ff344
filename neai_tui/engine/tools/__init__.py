"""The Studio's tools: data manipulation (reshape), sampling finder, datalogger generator.

They work on what users have before a project exists: continuous recordings (one
sample per line, often with a header, a timestamp and label columns) and boards
that do not log yet. Like the rest of the engine they import no UI code; the CLI
(`neai tools …`) and the TUI's Tools screen call the same functions.
"""
