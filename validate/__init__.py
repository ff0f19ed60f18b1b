"""The what-if engine validated against known truth: `make validate` writes VALIDATION.md."""
