"""Kills its parent process (hoping it is the grader) with SIGKILL, then returns a wrong size."""
import os
import signal


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    os.kill(os.getppid(), signal.SIGKILL)
    return -1
