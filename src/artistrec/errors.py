"""One exception type for every user-facing input problem.

Its message is a single line naming the file, the field and the fix, so a failed
Snakemake job shows the user what to change without reading a traceback.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad input data or configuration, reported as one line."""

    def __init__(self, source: str, field: str, problem: str, fix: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {field}: {problem}; fix: {fix}")
