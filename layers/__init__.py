"""Build tooling for the Lambda layers (not deployed code)."""
