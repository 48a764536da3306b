"""Command-line tools of Spoke (`spoke ...`). Each subcommand lives in its own module."""
