"""The grpcio-tools Lambda layer (the compile function only): see build.py and README.md."""
