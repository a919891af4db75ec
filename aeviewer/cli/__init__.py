"""The command line: argparse lives here only; one module per sub-command family."""
