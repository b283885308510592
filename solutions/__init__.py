"""Reference solutions. `exercises/` is generated from these files (python -m grader.stubgen)."""
