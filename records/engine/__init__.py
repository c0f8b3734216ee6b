"""Platform adapters, retry policy and the matrix runner (plain Python, no Django imports)."""
