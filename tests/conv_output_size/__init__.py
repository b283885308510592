"""The conv_output_size exercise: its checks, their support code, and its kept wrong and correct implementations."""
