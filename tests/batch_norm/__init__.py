"""The batch_norm exercise: its checks, their support code, and its kept wrong and correct implementations."""
