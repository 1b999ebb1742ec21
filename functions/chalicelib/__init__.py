"""HTTP and event glue for the Chalice app: parse, call one service, map errors in one place."""
