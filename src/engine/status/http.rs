//! `--http ADDR`: a small HTTP server on a thread of its own, for as long as the job runs.
//!
//! - `/metrics`: [`super::metrics`] in the text format Prometheus scrapes;
//! - `/healthz`: 200 while the run is healthy, 503 and the reason once it is not
//!   ([`super::health`]);
//! - `/`: the live page (`live.html`, compiled into the binary: no script, font or style from
//!   outside), which polls `/state` once a second: the job, its inputs, the watermark and its
//!   lag, and the latest results ([`super::live`]).
//!
//! The server lives in the status stage because it only reads what the stages report there; the
//! page draws the rows it is given, whatever the job. `tiny_http` answers one request at a time
//! on this thread: a page or a scraper never takes a worker's time.

use std::net::SocketAddr;

use serde_json::{Value, json};
use tiny_http::{Header, Request, Response, Server};

use super::{health, live, metrics};

const PAGE: &str = include_str!("live.html");

/// `ADDR` as `--http` takes it: `HOST:PORT`, or a port alone, on the loopback interface.
pub fn address(flag: &str) -> String {
    if flag.parse::<u16>().is_ok() {
        format!("127.0.0.1:{flag}")
    } else {
        flag.to_owned()
    }
}

/// Starts serving on `flag` (port 0: a free port); says where on stderr.
pub fn serve(flag: &str) -> Result<SocketAddr, String> {
    let address = address(flag);
    let server = Server::http(&address)
        .map_err(|e| format!("--http {flag}: cannot listen on {address}: {e}"))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| format!("--http {flag}: not an IP address"))?;
    std::thread::Builder::new()
        .name("uba-http".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                answer(request);
            }
        })
        .map_err(|e| format!("--http: cannot start the server's thread: {e}"))?;
    health::served();
    super::progress::eprint_line(&format!(
        "uba: serving http://{bound}/ (the live page), /metrics and /healthz"
    ));
    Ok(bound)
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn answer(request: Request) {
    let path = request.url().split('?').next().unwrap_or("/").to_owned();
    let (status, kind, body) = match path.as_str() {
        "/metrics" => (
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics::encode(),
        ),
        "/healthz" => match health::unhealthy() {
            None => (200, "text/plain; charset=utf-8", "ok\n".to_owned()),
            Some(reason) => {
                health::answered_unhealthy();
                (503, "text/plain; charset=utf-8", format!("{reason}\n"))
            }
        },
        "/state" => (200, "application/json", state()),
        "/" => (200, "text/html; charset=utf-8", PAGE.to_owned()),
        _ => (404, "text/plain; charset=utf-8", "not found\n".to_owned()),
    };
    let response = Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", kind))
        .with_header(header("Cache-Control", "no-store"));
    // A client that went away is no concern of the run.
    let _ = request.respond(response);
}

/// What the live page shows, as JSON. The rows are written as the output serialized them, so
/// that their columns keep the job's order.
fn state() -> String {
    let watermark = super::progress::job_watermark();
    let inputs: Vec<Value> = metrics::inputs()
        .into_iter()
        .map(|(name, c)| {
            json!({
                "name": name, "accepted": c.accepted, "rejected": c.rejected, "late": c.late,
                "filtered": c.filtered, "bytes": c.bytes, "watermark": c.watermark,
            })
        })
        .collect();
    let results: Vec<String> = live::latest()
        .into_iter()
        .map(|batch| {
            let rows: Vec<String> = batch
                .rows
                .iter()
                .map(|(section, row)| format!(r#"{{"section":{},"row":{row}}}"#, json!(section)))
                .collect();
            format!(
                r#"{{"time":{},"more":{},"rows":[{}]}}"#,
                batch.time,
                batch.more,
                rows.join(",")
            )
        })
        .collect();
    let head = json!({
        "job": metrics::job(),
        "ended": live::ended(),
        "unhealthy": health::unhealthy(),
        "now": metrics::wall_ms(),
        "watermark": watermark,
        "rows_emitted": metrics::rows_emitted(),
        "inputs": inputs,
    })
    .to_string();
    // `head` is an object: its closing brace makes way for the results.
    format!(
        r#"{},"results":[{}]}}"#,
        &head[..head.len() - 1],
        results.join(",")
    )
}
