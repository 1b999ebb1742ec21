"""Use cases. Each takes its ports (store, cipher, clock, policy) as arguments; no AWS imports."""
