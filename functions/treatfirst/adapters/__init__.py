"""Adapters behind the ports: DynamoDB (PynamoDB + boto3), in-memory fakes, ciphers."""
