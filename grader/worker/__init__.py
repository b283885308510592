"""What runs inside the sandbox: the wire format and the worker that imports a submission.

This package is the only part of ``grader/`` the sandbox can see (with
``tests/common/devices.py``, whose tensors cross the boundary). Nothing here decides a verdict.
"""

# Test support code that builds an exercise's probes in the worker and returns what they
# recorded (see tests/training_loop/scenario.py); the sandbox shows these files (grader/sandbox.py).
SCENARIOS = {"training_loop": "tests.training_loop.scenario"}
