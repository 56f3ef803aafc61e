"""The search indexer on AWS: a Lambda function on the Documents table's stream (see handler)."""
