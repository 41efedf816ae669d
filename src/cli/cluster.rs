//! `uba cluster`: runs one job as several local processes, with timely's own cluster protocol.
//!
//! Each process is `uba JOB ARGS -w W -n N -p I --hostfile HOSTFILE`, exactly what a user runs by hand on
//! several machines; this only writes the hostfile (free ports on 127.0.0.1), labels each process's
//! messages, and stops every process as soon as one fails, saying which one and why. Results need
//! no collecting: the job gathers them to global worker 0, so process 0's stdout is the output.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Flags of `uba cluster`.
#[derive(clap::Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// Number of processes.
    #[arg(long, default_value_t = 2)]
    pub processes: usize,
    /// Worker threads per process.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Input files to share out among the processes, comma-separated: process `i` reads files
    /// `i`, `i + N`, ... (passed to it as `--inputs`), each file with its own watermark. Without
    /// it, process 0 reads the job's INPUT.
    #[arg(long, value_name = "A.csv,B.csv,...")]
    pub split_inputs: Option<String>,
    /// The job and its arguments, as for a single process (`hot-items data.csv --format csv`).
    #[arg(required = true, allow_hyphen_values = true, value_name = "JOB ARGS")]
    pub job: Vec<String>,
}

pub fn run(args: Args) -> Result<(), String> {
    if args.processes == 0 || args.workers == 0 {
        return Err("--processes and --workers must be at least 1".into());
    }
    if args
        .job
        .iter()
        .any(|a| ["-n", "-p", "-h", "--processes", "--process", "--hostfile"].contains(&a.as_str()))
    {
        return Err(
            "uba cluster writes -n/-p/--hostfile itself: leave them out of the job's arguments"
                .into(),
        );
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the uba executable: {e}"))?;
    let ports = (0..args.processes)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot find free local ports: {e}"))?;
    let hostfile = std::env::temp_dir().join(format!("uba-hosts-{}.txt", std::process::id()));
    let hosts: String = ports.iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
    std::fs::write(&hostfile, hosts)
        .map_err(|e| format!("cannot write the hostfile {}: {e}", hostfile.display()))?;

    let mut children = Vec::new();
    let last_words: Vec<Arc<Mutex<String>>> = (0..args.processes).map(|_| Arc::default()).collect();
    for (p, last) in last_words.iter().enumerate() {
        let mut command = Command::new(&exe);
        command
            .args(&args.job)
            .args([
                "-w",
                &args.workers.to_string(),
                "-n",
                &args.processes.to_string(),
                "-p",
                &p.to_string(),
            ])
            .arg("--hostfile")
            .arg(&hostfile)
            .stderr(Stdio::piped());
        if let Some(files) = &args.split_inputs {
            let mine: Vec<&str> = files
                .split(',')
                .filter(|f| !f.is_empty())
                .skip(p)
                .step_by(args.processes)
                .collect();
            if mine.is_empty() {
                return Err(format!(
                    "--split-inputs has fewer files than the {} processes",
                    args.processes
                ));
            }
            command.arg("--inputs").arg(mine.join(","));
        }
        if p > 0 {
            command.stdin(Stdio::null()).stdout(Stdio::null());
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start process {p}: {e}"))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let last = last.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                crate::engine::status::progress::eprint_line(&format!("[process {p}] {line}"));
                *last.lock().expect("stderr lock") = line;
            }
        });
        children.push(child);
    }
    let result = supervise(&mut children, &last_words);
    let _ = std::fs::remove_file(&hostfile);
    result
}

/// Waits for every process; the first failure stops the others.
fn supervise(children: &mut [Child], last_words: &[Arc<Mutex<String>>]) -> Result<(), String> {
    let mut running = children.len();
    let mut done = vec![false; children.len()];
    while running > 0 {
        for (p, child) in children.iter_mut().enumerate() {
            if done[p] {
                continue;
            }
            let status = child
                .try_wait()
                .map_err(|e| format!("cannot watch process {p}: {e}"))?;
            let Some(status) = status else { continue };
            done[p] = true;
            running -= 1;
            if !status.success() {
                // The others hear of a stop or a failure on the control plane and end with the
                // same sentence: give them the time to, then stop those that did not.
                let deadline = std::time::Instant::now() + Duration::from_secs(10);
                for (q, other) in children.iter_mut().enumerate() {
                    if !done[q] {
                        while other.try_wait().ok().flatten().is_none()
                            && std::time::Instant::now() < deadline
                        {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        let _ = other.kill();
                        let _ = other.wait();
                    }
                }
                std::thread::sleep(Duration::from_millis(50)); // let its last stderr line arrive
                let why = last_words[p].lock().expect("stderr lock").clone();
                let why = why.strip_prefix("uba: ").unwrap_or(&why).to_owned();
                return Err(format!(
                    "process {p} failed ({status}): {why}; stopped the other processes"
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
