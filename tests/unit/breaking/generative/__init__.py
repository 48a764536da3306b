"""A seeded generator of valid protobuf schemas and of random mutations of them, for the generative
differential test against `buf breaking` (tests/unit/breaking/test_generative.py, `make fuzz-breaking`).

Everything is deterministic per seed (one `random.Random` per seed), so a failing seed is a reproducer.
"""
