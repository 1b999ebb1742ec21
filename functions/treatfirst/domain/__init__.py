"""The pure core: no Chalice, no boto3, no PynamoDB imports here."""
