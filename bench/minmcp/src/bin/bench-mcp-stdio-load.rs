//! Load over MCP stdio: the stdio counterpart of `wrk -s bench/mcp_call.lua`.
//!
//! usage: bench-mcp-stdio-load K SECONDS TOOL ARGS_JSON EXPECT -- SERVER_CMD [ARGS...]
//!   Starts SERVER_CMD with piped stdin/stdout (stderr inherited), does the MCP handshake
//!   (`initialize`, then `notifications/initialized`), then keeps K `tools/call` requests of
//!   TOOL with ARGS_JSON in flight: a new one is written (one write, one line) as each answer
//!   comes back. After a 1 s warm-up it measures SECONDS, then closes the server's stdin.
//!   Env WARMUP=seconds changes the warm-up.
//! Prints one line:
//!   calls_per_s CPU_us_per_call good bad
//! where CPU is the server process's user + system time (/proc/PID/stat, all its threads;
//! this driver's own CPU is not counted) over the measured window divided by the calls
//! answered in it. An answer is bad when its id is not one in flight, it is a JSON-RPC
//! error, its result says `"isError": true`, or it lacks EXPECT. Any bad answer, or none
//! good, makes the exit status 1.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

fn ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12) // utime, stime (fields 14 and 15)
}

fn clock_ticks() -> f64 {
    std::env::var("CLK_TCK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: bench-mcp-stdio-load K SECONDS TOOL ARGS_JSON EXPECT -- SERVER_CMD [ARGS...]";
    let Some(split) = args.iter().position(|a| a == "--") else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    if split != 5 || args.len() < 7 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let k: usize = args[0].parse().expect("K");
    let secs: f64 = args[1].parse().expect("SECONDS");
    let warmup: f64 = std::env::var("WARMUP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let tool = args[2].clone();
    let arguments: Value = serde_json::from_str(&args[3]).expect("ARGS_JSON");
    let expect = args[4].clone();

    let mut child = Command::new(&args[6])
        .args(&args[7..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());

    // Handshake.
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench-mcp-stdio-load","version":"1"}}}"#;
    writeln!(stdin, "{init}")
        .and_then(|_| stdin.flush())
        .expect("write initialize");
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).expect("read") == 0 {
            eprintln!("the server closed stdout during the handshake");
            std::process::exit(1);
        }
        let v: Value = serde_json::from_str(&line).expect("a JSON answer to initialize");
        if v.get("id") == Some(&Value::from(0)) {
            if v.get("result").is_none() {
                eprintln!("initialize failed: {line}");
                std::process::exit(1);
            }
            break;
        }
    }
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .and_then(|_| stdin.flush())
    .expect("write initialized");

    let good = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(Mutex::new(HashSet::<u64>::new()));
    // One token per answer: the writer sends one more request per token.
    let (tokens, next) = mpsc::channel::<()>();

    let reader = {
        let (good, bad, in_flight) = (good.clone(), bad.clone(), in_flight.clone());
        std::thread::spawn(move || {
            let mut line = String::new();
            loop {
                line.clear();
                match stdout.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let v: Value = match serde_json::from_str(&line) {
                    Ok(v) => v,
                    Err(_) => {
                        bad.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                let Some(id) = v.get("id").and_then(Value::as_u64) else {
                    // A notification from the server: not an answer.
                    if v.get("method").is_none() {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                    continue;
                };
                let known = in_flight.lock().unwrap().remove(&id);
                let ok = known
                    && v.get("error").is_none()
                    && v.get("result")
                        .and_then(|r| r.get("isError"))
                        .and_then(Value::as_bool)
                        != Some(true)
                    && v.get("result").is_some()
                    && (expect.is_empty() || line.contains(&expect));
                if ok {
                    good.fetch_add(1, Ordering::Relaxed);
                } else {
                    if bad.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("bad answer: {}", line.trim_end());
                    }
                }
                if tokens.send(()).is_err() {
                    return;
                }
            }
        })
    };

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (in_flight, stop) = (in_flight.clone(), stop.clone());
        std::thread::spawn(move || {
            let params = |id: u64| {
                let msg = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments}});
                let mut s = msg.to_string();
                s.push('\n');
                s
            };
            let mut id = 0u64;
            let mut send = |stdin: &mut std::process::ChildStdin| {
                id += 1;
                in_flight.lock().unwrap().insert(id);
                stdin
                    .write_all(params(id).as_bytes())
                    .and_then(|_| stdin.flush())
                    .is_ok()
            };
            for _ in 0..k {
                if !send(&mut stdin) {
                    return;
                }
            }
            while next.recv().is_ok() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if !send(&mut stdin) {
                    return;
                }
            }
            // Closing stdin ends the server.
            drop(stdin);
        })
    };

    std::thread::sleep(Duration::from_secs_f64(warmup));
    let (g0, t0, c0) = (good.load(Ordering::Relaxed), ticks(pid), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(secs));
    let (g1, t1, elapsed) = (good.load(Ordering::Relaxed), ticks(pid), c0.elapsed());
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let _ = child.wait();
    let _ = reader.join();
    let calls = g1 - g0;
    let cpu_us = (t1 - t0) as f64 / clock_ticks() * 1e6;
    let (good, bad) = (good.load(Ordering::Relaxed), bad.load(Ordering::Relaxed));
    println!(
        "{:.0} {:.1} {} {}",
        calls as f64 / elapsed.as_secs_f64(),
        if calls > 0 {
            cpu_us / calls as f64
        } else {
            0.0
        },
        good,
        bad
    );
    if bad > 0 || good == 0 {
        std::process::exit(1);
    }
}
