"""What runs inside the sandbox: the wire format and the worker that imports a submission.

This package is the only part of ``grader/`` the sandbox can see (with
``tests/common/devices.py``, whose tensors cross the boundary). Nothing here decides a verdict.
"""
