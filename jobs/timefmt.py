"""Wall-time strings: Slurm's formats in, minutes (and LSF's [H:]MM) out."""

from __future__ import annotations

import math
import re

from hpcarray.jobs.errors import JobError

_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def minutes(text: str) -> int:
    """Minutes (rounded up) in a Slurm time: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S."""
    m = _TIME.match(text.strip())
    if not m:
        raise JobError(f"invalid --time {text!r}: use MINUTES, HH:MM:SS or DAYS-HH:MM:SS")
    days, a, b, c = m.groups()
    nums = [int(a)] + [int(x) for x in (b, c) if x is not None]
    if days is not None or len(nums) == 3:  # D-H, D-H:M, D-H:M:S, H:M:S
        units = ("hours", "minutes", "seconds")[: len(nums)]
    else:  # M, M:S
        units = ("minutes", "seconds")[: len(nums)]
    fields = dict(zip(units, nums))
    # the leading field is unbounded (48:00:00, 90:30), the others a clock's
    for unit in units if days is not None else units[1:]:
        limit = 24 if unit == "hours" else 60
        if fields[unit] >= limit:
            raise JobError(f"invalid --time {text!r}: {unit} must be below {limit}")
    secs = (int(days or 0) * 86400 + fields.get("hours", 0) * 3600
            + fields.get("minutes", 0) * 60 + fields.get("seconds", 0))
    if secs <= 0:
        raise JobError(f"invalid --time {text!r}: must be more than zero")
    return math.ceil(secs / 60)


def lsf_walltime(text: str) -> str:
    """LSF's -W value, [hours:]minutes."""
    total = minutes(text)
    return f"{total // 60}:{total % 60:02d}"
