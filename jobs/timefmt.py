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
    if days is not None:  # D-H, D-H:M, D-H:M:S
        h, mi, s = (nums + [0, 0])[:3]
        secs = int(days) * 86400 + h * 3600 + mi * 60 + s
    elif len(nums) == 1:  # M
        secs = nums[0] * 60
    elif len(nums) == 2:  # M:S
        secs = nums[0] * 60 + nums[1]
    else:  # H:M:S
        secs = nums[0] * 3600 + nums[1] * 60 + nums[2]
    if secs <= 0:
        raise JobError(f"invalid --time {text!r}: must be more than zero")
    return math.ceil(secs / 60)


def lsf_walltime(text: str) -> str:
    """LSF's -W value, [hours:]minutes."""
    total = minutes(text)
    return f"{total // 60}:{total % 60:02d}"
