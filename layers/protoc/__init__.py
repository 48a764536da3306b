"""The protoc Lambda layer: see build.py and README.md."""
