"""`spoke`: the registry's command line (typer + rich over `spoke_client`).

Not deployed to Lambda: chalicelib must never import it. Entry point: `spoke_cli.main:main`.
"""
