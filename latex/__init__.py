"""Everything that knows LaTeX: cite commands, cursor context, plain text, bibliography discovery."""
