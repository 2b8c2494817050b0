#!/usr/bin/env python3
"""Whole-process figures for `sitebundle build` against `cp -r` of the same tree (bench/whole-process.sh).

For each site: the median wall time of repeated runs, the CPU time (user + system, median) and the
peak resident memory (largest of all runs) of every command, taken from the kernel's accounting of
the child process (wait4's rusage), with GNU time for the peak. Rows:

  rebuild unchanged   `build` of the same site into the bundle it built before
  rebuild 1 changed   `build` of the site with one server's address changed, into the bundle of the
                      unchanged site (the folder is put back before every run, outside the timing)
  fresh build         `build` into a folder that does not exist
  cp -r (existing)    `cp -r bundle/. copy/` into a folder that already holds the same tree
  cp -r (fresh)       `cp -r bundle copy` into a folder that does not exist
  cp -r + sync        the same, then `sync`: a copy that is on disk when it returns, as the
                      build's is (the build flushes its new tree before swapping it in); for
                      context, the ratio stays against plain `cp -r`

The rebuild rows are compared with `cp -r` into the existing folder, the fresh build with `cp -r`
into a new folder. Usage: measure.py BIN WORKDIR RUNS SIZE... (SIZE: `reference` or a server count).
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import time


PEAK_FILE = None
# ext4 without a journal skips inodes deleted less than RECENTCY_MIN = 60 s ago (fs/ext4/ialloc.c).
RECENTCY_SECONDS = 61


def settle():
    """Flushes what earlier runs left dirty (os.sync), outside the timing, so that no command pays
    for the writeback of the one before it."""
    os.sync()


def run_once(argv):
    """Runs argv under GNU time; returns (wall seconds, CPU seconds, peak RSS in KiB). Fails loudly on a
    non-zero exit. The CPU time is wait4's rusage of GNU time, which includes the command it waited
    for; the peak comes from GNU time (%M), as a child of Python inherits Python's own high-water
    mark in its rusage."""
    settle()
    start = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", PEAK_FILE, *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {err}")
    with open(PEAK_FILE, encoding="ascii") as f:
        peak = int(f.read().split()[-1])
    return wall, usage.ru_utime + usage.ru_stime, peak


def measure(argv, runs, prepare=None):
    """Median wall and CPU over `runs` runs (after one warm-up), largest peak memory. `argv` is a
    list, or a function of the run's number that returns one (a new destination per run)."""
    walls, cpus, peak = [], [], 0
    for i in range(runs + 1):
        if prepare:
            prepare()
        wall, cpu, rss = run_once(argv(i) if callable(argv) else argv)
        if i == 0:
            continue
        walls.append(wall)
        cpus.append(cpu)
        peak = max(peak, rss)
    return statistics.median(walls), statistics.median(cpus), peak


def tree_size(root):
    files = total = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            files += 1
            total += os.lstat(os.path.join(dirpath, n)).st_size
    return files, total


def one_server_changed(text):
    """The same site with the first server's address changed (a small edit, as in daily use)."""
    changed, n = re.subn(r'(?m)^address = "[^"]*"', 'address = "10.250.250.250"', text, count=1)
    if n != 1:
        sys.exit("no server address to change")
    return changed


def site_text(binary, size, repo):
    if size == "reference":
        with open(os.path.join(repo, "site.toml"), encoding="utf-8") as f:
            return f.read()
    return subprocess.run([binary, "synth", size], check=True, capture_output=True, text=True).stdout


def ms(seconds):
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def bench_site(binary, work, runs, size, repo):
    label = "reference" if size == "reference" else f"{int(size):,} servers"
    site_a, site_b = os.path.join(work, f"{size}.toml"), os.path.join(work, f"{size}-b.toml")
    text = site_text(binary, size, repo)
    with open(site_a, "w", encoding="utf-8") as f:
        f.write(text)
    with open(site_b, "w", encoding="utf-8") as f:
        f.write(one_server_changed(text))
    out, fresh, copy = (os.path.join(work, f"{size}.{s}") for s in ("out", "fresh", "copy"))
    build = lambda site, dest: [binary, "build", "-q", site, "-o", dest]
    run_once(build(site_a, out))
    files, total = tree_size(out)
    rows = {}
    rows["rebuild unchanged"] = measure(build(site_a, out), runs)
    rows["rebuild 1 changed"] = measure(
        build(site_b, out), runs, prepare=lambda: run_once(build(site_a, out)))
    # Fresh runs write into a new folder each time and the folders are removed only at the end: on
    # ext4 without a journal (the build machine's), the inode allocator skips every inode deleted
    # less than a minute ago, reading its inode table block for each (torvalds/linux
    # fs/ext4/ialloc.c, find_inode_bit() and recently_deleted(), RECENTCY_MIN 60 s), so creating
    # thousands of files right after removing thousands measured the file system's state rather
    # than the command (a fresh `cp -r` of 1,000 servers took 0.07 s or 1.0 s depending on it).
    rows["fresh build"] = measure(lambda i: build(site_a, f"{fresh}.{i}"), runs)
    run_once(["cp", "-r", out, copy])
    rows["cp -r (existing)"] = measure(["cp", "-r", out + "/.", copy + "/"], runs)
    rows["cp -r (fresh)"] = measure(lambda i: ["cp", "-r", out, f"{copy}.{i}"], runs)
    rows["cp -r + sync"] = measure(
        lambda i: ["sh", "-c", f'cp -r "$1" "$2" && sync', "sh", out, f"{copy}.s{i}"], runs)
    made = [f"{p}.{i}" for p in (fresh, copy) for i in range(runs + 1)]
    made += [f"{copy}.s{i}" for i in range(runs + 1)]
    for d in [out, copy] + made:
        shutil.rmtree(d, ignore_errors=True)
    # The next site (or the next run of this script) starts after the inode allocator's one-minute
    # memory of these deletions (RECENTCY_MIN, see above), so that it is not measured against it.
    time.sleep(RECENTCY_SECONDS)
    for s in (site_a, site_b):
        os.remove(s)
    return label, files, total, rows


def main():
    global PEAK_FILE
    binary, work, runs, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    PEAK_FILE = os.path.join(work, "peak.txt")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"{os.cpu_count()} CPUs; {runs} runs each, medians; CPU = user + system")
    print()
    print("| site | files | bytes | run | wall ms | × `cp -r` | CPU ms | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        label, files, total, rows = bench_site(binary, work, runs, size, repo)
        cp_existing, cp_fresh = rows["cp -r (existing)"][0], rows["cp -r (fresh)"][0]
        for name, (wall, cpu, peak) in rows.items():
            floor = cp_fresh if name == "fresh build" else cp_existing
            ratio = "" if name.startswith("cp") else f"{wall / floor:.2f}×"
            print(f"| {label} | {files:,} | {total:,} | {name} | {ms(wall)} | {ratio} | {ms(cpu)} | "
                  f"{peak / 1024:.0f} |", flush=True)
    print()
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
