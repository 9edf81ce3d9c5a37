"""Command-line interface of startref."""
