//! Hosts of a test cluster, on this machine: each a Linux network namespace with its own network
//! stack (its own loopback, one interface, one address), all of a test's hosts joined by a bridge
//! in a namespace of their own, the test's switch. Traffic goes only between the namespaces the
//! test made; every test has its own switch, so tests in parallel may use the same addresses.
//! A host's link can be set down mid-run, as a cut cable. Dropping the network kills whatever
//! still runs in its namespaces and deletes them.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Unavailable;

/// The hosts' subnet: a private range (RFC 1918) that the test's switch alone carries.
const SUBNET: &str = "10.213.0";

#[derive(Debug)]
pub struct Network {
    switch: String,
    hosts: Vec<String>,
}

impl Network {
    /// Makes `count` hosts for test `tag`. Missing: no `ip` (iproute2) on PATH, or not root (a
    /// network namespace needs CAP_SYS_ADMIN). Failed: `ip` refusing to make what it should.
    pub fn new(tag: &str, count: usize) -> Result<Network, Unavailable> {
        if super::on_path("ip").is_none() {
            return Err(Unavailable::Missing(
                "no `ip` on PATH (apt-get install iproute2)".into(),
            ));
        }
        if unsafe { geteuid() } != 0 {
            return Err(Unavailable::Missing(
                "not root: making network namespaces needs root".into(),
            ));
        }
        let name = |what: &str| format!("uba-{}-{tag}-{what}", std::process::id());
        let mut network = Network {
            switch: name("switch"),
            hosts: Vec::new(),
        };
        ip(&["netns", "add", &network.switch]).map_err(Unavailable::Failed)?;
        let sw = network.switch.clone();
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"]).map_err(Unavailable::Failed)?;
        ip(&["-n", &sw, "link", "set", "br0", "up"]).map_err(Unavailable::Failed)?;
        for i in 0..count {
            let host = name(&format!("h{i}"));
            ip(&["netns", "add", &host]).map_err(Unavailable::Failed)?;
            network.hosts.push(host.clone());
            let port = format!("p{i}");
            let address = format!("{SUBNET}.{}/24", i + 1);
            for args in [
                &[
                    "link", "add", "eth0", "netns", &host, "type", "veth", "peer", "name", &port,
                    "netns", &sw,
                ][..],
                &["-n", &sw, "link", "set", &port, "master", "br0", "up"],
                &["-n", &host, "addr", "add", &address, "dev", "eth0"],
                &["-n", &host, "link", "set", "eth0", "up"],
                &["-n", &host, "link", "set", "lo", "up"],
            ] {
                ip(args).map_err(Unavailable::Failed)?;
            }
        }
        Ok(network)
    }

    /// Host `i`'s network namespace.
    pub fn namespace(&self, i: usize) -> &str {
        &self.hosts[i]
    }

    /// Host `i`'s address.
    pub fn address(&self, i: usize) -> String {
        format!("{SUBNET}.{}", i + 1)
    }

    /// `program` to be run on host `i` (`ip netns exec HOST program`).
    pub fn command(&self, i: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.hosts[i]]).arg(program);
        command
    }

    /// A hostfile in `dir` naming the first `processes` hosts, each at `port`.
    pub fn hostfile(&self, dir: &Path, processes: usize, port: u16) -> PathBuf {
        let path = dir.join("hosts.txt");
        let lines: String = (0..processes)
            .map(|i| format!("{}:{port}\n", self.address(i)))
            .collect();
        std::fs::write(&path, lines).unwrap();
        path
    }

    /// Cuts host `i` off: its interface goes down, as when its cable is pulled.
    pub fn cut(&self, i: usize) {
        ip(&["-n", &self.hosts[i], "link", "set", "eth0", "down"]).unwrap();
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for ns in self.hosts.iter().chain([&self.switch]) {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

unsafe extern "C" {
    fn geteuid() -> u32;
}
