"""Which checks a command line selects: ``dropout sgd -k rate -x`` -> the folders of the
dropout and sgd checks, and ``-k rate -x`` for pytest (nox -s check, nox -s solutions)."""
from __future__ import annotations

from grader.catalog import BY_NAME, EXERCISES, ROOT

# pytest options whose value is the next argument: that word is no exercise name.
VALUE_OPTIONS = {"-k", "-m", "-p", "-W", "-o", "--tb", "--target", "--maxfail", "--hypothesis-seed",
                 "--hypothesis-profile", "--deselect", "--kill-matrix"}


def split_exercises(posargs: list[str]) -> tuple[list[str], list[str]]:
    """Exercise names -> their check folders (all exercises when none is named); the rest -> pytest options."""
    names, options = split_names(posargs)
    return [str(BY_NAME[name].folder.relative_to(ROOT)) for name in names], options


def split_names(posargs: list[str]) -> tuple[list[str], list[str]]:
    """Exercise names (all exercises when none is named), and the rest: pytest options."""
    names, options = [], []
    takes_value = False
    for arg in posargs:
        if takes_value or arg.startswith("-"):
            options.append(arg)
            takes_value = not takes_value and arg in VALUE_OPTIONS
        else:
            names.append(arg)
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown exercise {', '.join(unknown)}; the exercises are: {', '.join(BY_NAME)}")
    return names or [exercise.name for exercise in EXERCISES], options
