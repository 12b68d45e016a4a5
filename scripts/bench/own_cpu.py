#!/usr/bin/env python3
"""Run a command and say how much CPU it used itself, apart from the processes it started.

    own_cpu.py OUT -- CMD [ARG...]

Appends one line to OUT: wall seconds, the command's own user and system CPU seconds (all its
threads), the user and system CPU seconds of the children it waited for (for `netsec repro`:
the stage commands), and its voluntary and involuntary context switches. `/usr/bin/time`
reports the sum of both; the difference is the orchestrator's own cost, which a shell loop
running the same commands does not pay. The command is waited for without being reaped
(`waitid(WNOWAIT)`), so its `/proc` entry still holds the final figures, then reaped. Exits with
the command's status.
"""
import os
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out, cmd = sys.argv[1], sys.argv[3:]
    start = time.monotonic()
    child = subprocess.Popen(cmd)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    wall = time.monotonic() - start
    with open(f"/proc/{child.pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2 :].split()
    tick = os.sysconf("SC_CLK_TCK")
    utime, stime, cutime, cstime = (int(fields[i]) / tick for i in (11, 12, 13, 14))
    switches = {}
    with open(f"/proc/{child.pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.endswith("ctxt_switches"):
                switches[key] = int(value)
    _, status, _ = os.wait4(child.pid, 0)
    with open(out, "a") as f:
        f.write(
            f"{wall:.3f} {utime:.2f} {stime:.2f} {cutime:.2f} {cstime:.2f} "
            f"{switches.get('voluntary_ctxt_switches', 0)} "
            f"{switches.get('nonvoluntary_ctxt_switches', 0)}\n"
        )
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
