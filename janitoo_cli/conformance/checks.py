"""`jnt check`'s run: every group of checks against one node, in order, into one Report."""

from __future__ import annotations

from .controller_checks import ControllerChecks
from .discovery_checks import DiscoveryChecks
from .live_checks import LiveChecks
from .probe import Options, Prober
from .results import Report
from .value_checks import ValueChecks

__all__ = ["Checker", "Options"]


class Checker(DiscoveryChecks, ValueChecks, ControllerChecks, LiveChecks, Prober):
    """Runs every check against one node through a started Session and returns the Report."""

    def run(self) -> Report:
        self.check_discovery()
        self.check_broadcast()
        self.check_values()
        self.check_refusals()
        self.check_hostile()
        if self.o.read_only:
            for a in (
                "JNT-SET-01",
                "JNT-SET-02",
                "JNT-SET-03",
                "JNT-REF-02",
                "JNT-REF-03",
                "JNT-SAFE-02",
                "JNT-SAFE-03",
                "JNT-SAFE-04",
                "JNT-SAFE-07",
            ):
                self.r.record(a, None, "skipped: --read-only")
        else:
            self.check_sets()
        self.check_index()
        self.check_controller()
        self.observe()
        self.check_passive()
        if self.o.until_offline > 0:
            self.check_offline()
        else:
            self.r.record("JNT-HB-07", None, "needs --until-offline SECONDS (stop the node meanwhile)")
            self.r.record("JNT-LW-01", None, "needs --until-offline SECONDS (kill the node meanwhile)")
        report = Report(self.h, self.s.client.broker, self.r.results(), self.notes, self.restore_failed)
        if self.s.dropped:
            report.notes.append(f"{self.s.dropped} messages were not recorded (more than the checker keeps)")
        if self.s.client.oversized:
            report.notes.append(f"{self.s.client.oversized} oversized payloads were dropped unread")
        return report
