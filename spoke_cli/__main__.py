"""`python -m spoke_cli`: the same as the `spoke` console script."""
from spoke_cli.main import main

main()
