"""Your exercises: one module per exercise. See README.md."""
