"""The `tanaban` command line: one thin typer file per command group over library functions."""
