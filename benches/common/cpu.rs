//! CPU time of processes on this host, from /proc: shared by the benchmarks that print it beside
//! their wall-clock rates.

use std::time::Duration;

/// utime + stime of a process (`pid`, or `self`) from /proc/<pid>/stat, in clock ticks of 10 ms
/// (USER_HZ is 100 on every Linux this runs on; reading it needs libc::sysconf, i.e. unsafe
/// code). None when the process is gone or not on this host.
pub fn proc_cpu(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The pids of the processes called `name` (their `comm`).
pub fn pids_named(name: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name))
        .collect()
}
