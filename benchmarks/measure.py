"""Turn repeated runs of one program under one variant into the reported numbers."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field

from benchmarks.execute import RunResult
from benchmarks.programs import Config, Program

CHECKSUM_RTOL = 1e-6


@dataclass
class Cell:
    """The result of one program under one variant (medians over repetitions)."""

    variant: str
    status: str = "ok"  # "ok", "n/a" (could not run) or "error" (ran, gave no result)
    reason: str = ""
    times_s: list[float] = field(default_factory=list)
    maxrss_mib: list[float] = field(default_factory=list)
    checksum: float | None = None
    time_s: float | None = None
    time_per_iter_s: float | None = None
    throughput: float | None = None
    achieved_gbs: float | None = None
    roofline_fraction: float | None = None
    peak_rss_mib: float | None = None
    speedup_vs_numpy: float | None = None
    rss_vs_numpy: float | None = None
    checksum_matches_numpy: bool | None = None

    def add(self, result: RunResult) -> None:
        self.times_s.append(result.values["time"])
        if result.maxrss_mib is not None:
            self.maxrss_mib.append(result.maxrss_mib)
        if self.checksum is None:
            self.checksum = result.values["checksum"]

    def finish(self, program: Program, config: Config, bandwidth_gbs: float | None) -> None:
        """Medians, throughput and roofline fraction from the recorded runs."""
        if not self.times_s:
            if self.status == "ok":
                self.status, self.reason = "n/a", self.reason or "no runs"
            return
        self.time_s = statistics.median(self.times_s)
        if self.maxrss_mib:
            self.peak_rss_mib = statistics.median(self.maxrss_mib)
        if self.time_s <= 0:
            return
        self.time_per_iter_s = self.time_s / config.iters
        self.throughput = program.work(config) / self.time_per_iter_s / program.scale
        if program.bytes_per_point is not None:
            moved = program.bytes_per_point(config) * program.points(config)
            self.achieved_gbs = moved / self.time_per_iter_s / 1e9
            if bandwidth_gbs:
                self.roofline_fraction = self.achieved_gbs / bandwidth_gbs

    def compare(self, reference: Cell | None) -> None:
        """Ratios and checksum agreement against the NumPy cell."""
        if reference is None or self.status != "ok" or reference.status != "ok":
            return
        if self.time_s and reference.time_s:
            self.speedup_vs_numpy = reference.time_s / self.time_s
        if self.peak_rss_mib and reference.peak_rss_mib:
            self.rss_vs_numpy = self.peak_rss_mib / reference.peak_rss_mib
        if self.checksum is not None and reference.checksum is not None:
            self.checksum_matches_numpy = math.isclose(
                self.checksum, reference.checksum, rel_tol=CHECKSUM_RTOL, abs_tol=1e-12)

    def to_json(self) -> dict[str, object]:
        return asdict(self)
