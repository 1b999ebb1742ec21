"""The docs tier reads the built site of tests/conftest.py (`built`: one strict build per test run, shared with
the browser tier)."""
