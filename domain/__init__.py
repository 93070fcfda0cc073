"""Entities and data rules of the HR migration. Pure Python: imports nothing but the standard library."""
