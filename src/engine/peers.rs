//! The connections between the processes of a cluster: uba makes them itself, then hands them to
//! timely ([`initialize_networking_from_sockets`]).
//!
//! Timely's own set-up retries once a second with no deadline, accepts any process that sends
//! the right index, and its connections carry no timeout: a host that never starts, a stopped
//! host or a cut link hang the others for good. Here instead:
//! - **A deadline** (`--connect-timeout`): a process that has not connected by then is named
//!   (its `host:port`), and every waiting process exits with [`PEER_LOST`].
//! - **A handshake**: on every connection both processes say who they are ([`Identity`]: the
//!   build, the job, the arguments that decide the results, the hosts, the workers per process)
//!   and both refuse a process of another cluster with one sentence that says what differs
//!   ([`USAGE`]).
//! - **A watch** (`--peer-timeout`): besides timely's connection, each pair of processes has a
//!   second one on which each sends a byte several times per timeout from its own thread. A peer
//!   whose bytes stop (stopped with SIGSTOP, its machine off, the link down: TCP itself keeps a
//!   stopped process's connections alive) is lost: the process withholds its results and exits
//!   with [`PEER_LOST`], naming it. A peer that ended, well or not, closes its connections: that
//!   is timely's to report (the process ended, or the run did), not the watch's. Every
//!   connection also has TCP keepalive and a TCP user timeout of the same length, so that a send
//!   to a vanished host fails rather than waits.
//!
//! Process `i` listens on its line of the hostfile and connects to each process before it, as
//! timely does.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};

use crate::engine::status::failure::{self, Failure, PEER_LOST, USAGE};
use crate::engine::status::stop;

/// What a process of a cluster must share with every other: a process that differs in any of
/// these would compute something else, or could not exchange data with the others.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// uba's version and a hash of its executable.
    pub build: String,
    pub job: String,
    /// The arguments that decide the results (`status::invocation::result_arguments`).
    pub arguments: String,
    /// The cluster's `host:port`s, in process order.
    pub hosts: Vec<String>,
    /// Worker threads per process (timely numbers workers `process * workers + thread`).
    pub workers: usize,
}

impl Identity {
    /// How `theirs` differs from this process's identity, as the end of a sentence.
    fn differs(&self, theirs: &Identity) -> Option<String> {
        let said = |what: &str, a: &str, b: &str| Some(format!("{what} {b}, this process {a}"));
        if self.build != theirs.build {
            said("it runs", &self.build, &theirs.build)
        } else if self.job != theirs.job {
            said("it runs the job", &self.job, &theirs.job)
        } else if self.arguments != theirs.arguments {
            said(
                "it runs with the arguments",
                &format!("'{}'", self.arguments),
                &format!("'{}'", theirs.arguments),
            )
        } else if self.hosts != theirs.hosts {
            said(
                "its hostfile names",
                &self.hosts.join(" "),
                &theirs.hosts.join(" "),
            )
        } else if self.workers != theirs.workers {
            said(
                "it runs",
                &format!("-w {}", self.workers),
                &format!("-w {}", theirs.workers),
            )
        } else {
            None
        }
    }
}

/// The two connections of each pair of processes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Channel {
    /// Timely's: the dataflow's data and progress.
    Timely,
    /// The watch's bytes.
    Watch,
}

/// The first message on every connection, each way.
#[derive(Serialize, Deserialize, Debug)]
struct Hello {
    /// Always [`MAGIC`]: anything else did not come from uba.
    magic: String,
    process: usize,
    channel: Channel,
    identity: Identity,
}

const MAGIC: &str = "uba cluster 1";

/// The timing of a cluster's connections.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// How long to wait for every process to connect.
    pub connect: Duration,
    /// How long a peer may be silent before it counts as lost.
    pub peer: Duration,
}

/// One process's side of a cluster, connected: timely's allocators, and what keeps the
/// connections up (timely's network threads, which the workers' guards must outlive).
pub struct Connected {
    pub builders: Vec<AllocatorBuilder>,
    pub guard: Box<dyn std::any::Any + Send>,
}

/// Connects process `me` to every other process of `identity.hosts` under the deadline, checks
/// each one's identity, starts the watch, and builds timely's allocators over the connections.
pub fn connect(me: usize, identity: &Identity, timeouts: Timeouts) -> Result<Connected, Failure> {
    let hosts = &identity.hosts;
    let deadline = Instant::now() + timeouts.connect;
    // The processes after this one call it: it listens before calling the ones before it, so
    // that no early caller is refused.
    let accepting = if me + 1 < hosts.len() {
        let listener = TcpListener::bind(hosts[me].as_str()).map_err(|e| {
            Failure::new(
                USAGE,
                format!(
                    "process {me} cannot listen on {} (its line of the hostfile): {e}",
                    hosts[me]
                ),
            )
        })?;
        let identity = identity.clone();
        let thread = std::thread::Builder::new()
            .name("uba:accept".into())
            // A refusal or the deadline here ends the process at once: the calls to the
            // processes before this one may still be waiting for theirs.
            .spawn(move || {
                accept_all(listener, me, &identity, deadline, timeouts)
                    .unwrap_or_else(|e| failure::exit(&e))
            })
            .map_err(|e| Failure::new(failure::FAILED, format!("cannot start a thread: {e}")))?;
        Some(thread)
    } else {
        None
    };
    let mut streams = HashMap::new();
    for peer in 0..me {
        for channel in [Channel::Timely, Channel::Watch] {
            let stream = call(peer, channel, me, identity, deadline, timeouts)?;
            streams.insert((peer, channel), stream);
        }
    }
    if let Some(accepting) = accepting {
        streams.extend(
            accepting
                .join()
                .map_err(|_| Failure::new(failure::FAILED, "the connection set-up failed"))?,
        );
    }
    let mut sockets: Vec<Option<TcpStream>> = Vec::with_capacity(hosts.len());
    for (peer, host) in hosts.iter().enumerate() {
        if peer == me {
            sockets.push(None);
            continue;
        }
        let watch = streams
            .remove(&(peer, Channel::Watch))
            .expect("every peer has a watch");
        watch_peer(watch, me, peer, host, timeouts.peer);
        sockets.push(streams.remove(&(peer, Channel::Timely)));
    }
    let hooks = timely::communication::Hooks::default();
    let local = ProcessBuilder::new_typed_vector(
        identity.workers,
        hooks.refill.clone(),
        hooks.spill.clone(),
    );
    let (builders, guard) =
        initialize_networking_from_sockets(local, sockets, me, identity.workers, hooks).map_err(
            |e| {
                Failure::new(
                    failure::FAILED,
                    format!("cannot start the cluster's network: {e}"),
                )
            },
        )?;
    Ok(Connected {
        builders: builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
        guard: Box::new(guard),
    })
}

/// Connects to process `peer` (one before `me`) for `channel`, retrying until the deadline as the
/// peer may not listen yet, and exchanges hellos.
fn call(
    peer: usize,
    channel: Channel,
    me: usize,
    identity: &Identity,
    deadline: Instant,
    timeouts: Timeouts,
) -> Result<TcpStream, Failure> {
    let host = &identity.hosts[peer];
    let started = Instant::now();
    let mut told = false;
    let mut last_error = String::from("no answer");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::new(
                PEER_LOST,
                format!(
                    "process {me} waited {} for process {peer} at {host}, which did not answer \
                     ({last_error}): is it started, with the same hostfile? (--connect-timeout)",
                    shown(timeouts.connect)
                ),
            ));
        }
        if !told && started.elapsed() > Duration::from_secs(1) {
            crate::engine::status::progress::eprint_line(&format!(
                "uba: process {me} is waiting for process {peer} at {host} (at most {})",
                shown(timeouts.connect)
            ));
            told = true;
        }
        let attempt = host
            .to_socket_addrs()
            .and_then(|mut addresses| {
                addresses.next().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no address for this name")
                })
            })
            .and_then(|address| {
                TcpStream::connect_timeout(&address, left.min(Duration::from_secs(1)))
            });
        match attempt {
            Ok(mut stream) => {
                configure(&stream, timeouts.peer);
                stream.set_read_timeout(Some(left)).ok();
                let theirs = say_hello(&mut stream, me, channel, identity)
                    .and_then(|()| hear_hello(&mut stream))
                    .map_err(|e| {
                        Failure::new(
                            USAGE,
                            format!(
                                "process {me} reached {host}, the address of process {peer}, but \
                                 no uba process of this cluster answered there ({e})"
                            ),
                        )
                    })?;
                check(me, &theirs, peer, host, identity)?;
                stream.set_read_timeout(None).ok();
                return Ok(stream);
            }
            Err(e) => {
                last_error = e.to_string();
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Accepts both connections of every process after `me`, until the deadline. A connection that
/// does not say hello as uba does is dropped (a port scanner, a stray client).
fn accept_all(
    listener: TcpListener,
    me: usize,
    identity: &Identity,
    deadline: Instant,
    timeouts: Timeouts,
) -> Result<HashMap<(usize, Channel), TcpStream>, Failure> {
    let processes = identity.hosts.len();
    let mut streams = HashMap::new();
    listener
        .set_nonblocking(true)
        .map_err(|e| Failure::new(failure::FAILED, format!("cannot listen: {e}")))?;
    while streams.len() < 2 * (processes - me - 1) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let missing: Vec<String> = (me + 1..processes)
                .filter(|p| !streams.contains_key(&(*p, Channel::Watch)))
                .map(|p| format!("process {p} ({})", identity.hosts[p]))
                .collect();
            return Err(Failure::new(
                PEER_LOST,
                format!(
                    "process {me} waited {} at {} for {} to connect, in vain: is it started, \
                     with the same hostfile? (--connect-timeout)",
                    shown(timeouts.connect),
                    identity.hosts[me],
                    missing.join(" and ")
                ),
            ));
        }
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(e) => {
                return Err(Failure::new(
                    failure::FAILED,
                    format!("process {me} cannot accept connections: {e}"),
                ));
            }
        };
        stream.set_nonblocking(false).ok();
        configure(&stream, timeouts.peer);
        // A peer says hello as soon as it has connected: a caller that says nothing (a port
        // scanner holding the connection) must not hold up the others until the deadline.
        stream
            .set_read_timeout(Some(left.min(Duration::from_secs(5))))
            .ok();
        let Ok(theirs) = hear_hello(&mut stream) else {
            continue;
        };
        let peer = theirs.process;
        let host = identity.hosts.get(peer).cloned().unwrap_or_else(|| {
            stream
                .peer_addr()
                .map_or_else(|_| "an unknown address".into(), |a| a.to_string())
        });
        // Answered first, whatever it said: the caller then says what differs too.
        let _ = say_hello(&mut stream, me, theirs.channel, identity);
        check(me, &theirs, peer, &host, identity)?;
        if peer <= me || peer >= processes {
            return Err(Failure::new(
                USAGE,
                format!(
                    "process {me} was called by a process that says it is process {peer} of {}: \
                     only processes {} to {} call it; is -p right?",
                    processes,
                    me + 1,
                    processes - 1
                ),
            ));
        }
        if streams.contains_key(&(peer, theirs.channel)) {
            return Err(Failure::new(
                USAGE,
                format!(
                    "two processes called process {me} as process {peer}: is -p {peer} given twice?"
                ),
            ));
        }
        stream.set_read_timeout(None).ok();
        streams.insert((peer, theirs.channel), stream);
    }
    Ok(streams)
}

/// Refuses a peer of another cluster, with what differs.
fn check(
    me: usize,
    theirs: &Hello,
    peer: usize,
    host: &str,
    identity: &Identity,
) -> Result<(), Failure> {
    match identity.differs(&theirs.identity) {
        None => Ok(()),
        Some(difference) => Err(Failure::new(
            USAGE,
            format!(
                "process {me} refused process {peer} at {host}, which is not of its cluster: \
                 {difference}; start every process with the same uba, job, arguments, -w and \
                 hostfile"
            ),
        )),
    }
}

fn say_hello(
    stream: &mut TcpStream,
    me: usize,
    channel: Channel,
    identity: &Identity,
) -> std::io::Result<()> {
    let hello = serde_json::to_vec(&Hello {
        magic: MAGIC.into(),
        process: me,
        channel,
        identity: identity.clone(),
    })?;
    stream.write_all(&(hello.len() as u32).to_be_bytes())?;
    stream.write_all(&hello)?;
    stream.flush()
}

/// Reads a peer's hello: a length, then that much JSON, which must be a uba hello.
fn hear_hello(stream: &mut TcpStream) -> std::io::Result<Hello> {
    let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned());
    let mut length = [0u8; 4];
    stream.read_exact(&mut length)?;
    let length = u32::from_be_bytes(length) as usize;
    if length > 1 << 20 {
        return Err(invalid("not a uba hello"));
    }
    let mut bytes = vec![0u8; length];
    stream.read_exact(&mut bytes)?;
    let hello: Hello = serde_json::from_slice(&bytes).map_err(|_| invalid("not a uba hello"))?;
    if hello.magic != MAGIC {
        return Err(invalid(&format!("it speaks '{}'", hello.magic)));
    }
    Ok(hello)
}

/// No delay for small messages (timely's progress updates), and TCP's own timeouts at the peer
/// timeout: keepalive probes on an idle connection, and a limit on how long sent data may stay
/// unacknowledged.
fn configure(stream: &TcpStream, peer_timeout: Duration) {
    let socket = socket2::SockRef::from(stream);
    let _ = socket.set_tcp_nodelay(true);
    let probe = (peer_timeout / 3).max(Duration::from_secs(1));
    let _ = socket.set_tcp_keepalive(
        &socket2::TcpKeepalive::new()
            .with_time(probe)
            .with_interval(probe)
            .with_retries(3),
    );
    let _ = socket.set_tcp_user_timeout(Some(peer_timeout));
}

/// Watches `peer` on `stream`: sends a byte ten times per timeout, and expects the peer's within
/// the timeout. Silence stops this process ([`PEER_LOST`]); a closed connection ends the watch.
fn watch_peer(stream: TcpStream, me: usize, peer: usize, host: &str, timeout: Duration) {
    let beat = timeout / 10;
    if let Ok(mut sender) = stream.try_clone() {
        let _ = std::thread::Builder::new()
            .name(format!("uba:beat-{peer}"))
            .spawn(move || {
                while sender.write_all(b".").is_ok() {
                    std::thread::sleep(beat);
                }
            });
    }
    let host = host.to_owned();
    let mut stream = stream;
    let _ = std::thread::Builder::new()
        .name(format!("uba:watch-{peer}"))
        .spawn(move || {
            stream.set_read_timeout(Some(timeout)).ok();
            let mut byte = [0u8; 64];
            loop {
                match stream.read(&mut byte) {
                    Ok(n) if n > 0 => continue,
                    // Closed: the peer ended; how is timely's to say.
                    Ok(_) => return,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        break;
                    }
                    Err(_) => return,
                }
            }
            stop::withhold_results();
            failure::exit(&Failure::new(
                PEER_LOST,
                format!(
                    "process {me} heard nothing from process {peer} at {host} for {}: it is \
                     stopped, its machine is off or the network between them is cut; stopping \
                     this one too (--peer-timeout)",
                    shown(timeout)
                ),
            ));
        });
}

/// A duration as the flags take it (`60s`).
fn shown(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            build: "uba 0.1.0 build 1".into(),
            job: "hot-items".into(),
            arguments: "--top 3".into(),
            hosts: vec!["10.0.0.1:2101".into(), "10.0.0.2:2101".into()],
            workers: 2,
        }
    }

    #[test]
    fn a_difference_is_named() {
        let mine = identity();
        assert_eq!(mine.differs(&identity()), None);
        let other = Identity {
            job: "hot-pages".into(),
            ..identity()
        };
        assert_eq!(
            mine.differs(&other).as_deref(),
            Some("it runs the job hot-pages, this process hot-items")
        );
        let other = Identity {
            workers: 1,
            ..identity()
        };
        assert_eq!(
            mine.differs(&other).as_deref(),
            Some("it runs -w 1, this process -w 2")
        );
    }
}
