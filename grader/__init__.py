"""Running, scoring and reporting the exercises' checks."""
