"""The softmax exercise: its checks, their support code, and its kept wrong and correct implementations."""
