//! One child process of the acceptance binary per case: started with the case's
//! environment and working directory, killed when the case ends (or times out).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest stderr tail kept for messages.
const STDERR_KEEP: usize = 16 * 1024;

/// Kills the children of a case from another thread (the case's timeout).
#[derive(Clone, Default)]
pub struct Killer(Arc<Mutex<Vec<Arc<Mutex<std::process::Child>>>>>);

impl Killer {
    fn register(&self, c: Arc<Mutex<std::process::Child>>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(c);
    }

    /// Kills every child started for the case.
    pub fn kill_all(&self) {
        for c in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A running child.
pub struct Child {
    proc: Arc<Mutex<std::process::Child>>,
    stdin: Option<ChildStdin>,
    stdout: Option<Receiver<String>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// How to start a child.
pub struct Spawn<'a> {
    /// The acceptance binary.
    pub program: &'a Path,
    /// Module, command and flags.
    pub args: Vec<String>,
    /// Environment variables added for the case.
    pub env: Vec<(String, String)>,
    /// Working directory (holds the case's `files_in_cwd`).
    pub cwd: &'a Path,
    /// Pipe stdin/stdout (the stdio transport); otherwise stdout is discarded.
    pub stdio: bool,
}

impl Child {
    pub fn spawn(s: Spawn, killer: &Killer) -> Result<Child, String> {
        let mut cmd = Command::new(s.program);
        cmd.args(&s.args)
            .current_dir(s.cwd)
            .env("RUST_LOG", "warn")
            .env_remove("MCP_TOKEN")
            .env_remove("REST_TOKEN")
            .envs(s.env.iter().map(|(k, v)| (k, v)))
            .stderr(Stdio::piped());
        if s.stdio {
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        } else {
            cmd.stdin(Stdio::null()).stdout(Stdio::null());
        }
        let mut proc = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", s.program.display()))?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut err) = proc.stderr.take() {
            let buf = stderr.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = err.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let mut b = buf.lock().unwrap_or_else(|e| e.into_inner());
                    b.extend_from_slice(&chunk[..n]);
                    if b.len() > 2 * STDERR_KEEP {
                        let cut = b.len() - STDERR_KEEP;
                        b.drain(..cut);
                    }
                }
            });
        }
        let stdout = proc.stdout.take().map(|out| {
            let (tx, rx) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    match line {
                        Ok(l) => {
                            if tx.send(l).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
            });
            rx
        });
        let stdin = proc.stdin.take();
        let proc = Arc::new(Mutex::new(proc));
        killer.register(proc.clone());
        Ok(Child {
            proc,
            stdin,
            stdout,
            stderr,
        })
    }

    /// The last lines the child wrote to stderr, on one line.
    pub fn stderr_tail(&self) -> String {
        let b = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&b);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = &lines[lines.len().saturating_sub(3)..];
        crate::checks::show(&tail.join(" | "))
    }

    /// `Some(status)` once the child has exited.
    pub fn exited(&self) -> Option<String> {
        let mut p = self.proc.lock().unwrap_or_else(|e| e.into_inner());
        match p.try_wait() {
            Ok(Some(st)) => Some(st.to_string()),
            _ => None,
        }
    }

    /// Waits until every port accepts connections; fails early if the child exits.
    pub fn wait_ports(&self, ports: &[u16], limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        for &port in ports {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if let Some(st) = self.exited() {
                    std::thread::sleep(Duration::from_millis(50));
                    return Err(format!(
                        "the service exited ({st}) before listening: {}",
                        self.stderr_tail()
                    ));
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "port {port} did not accept connections within {limit:?}: {}",
                        self.stderr_tail()
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// Writes one line to stdin.
    pub fn write_line(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin is closed")?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.write_all(b"\n"))
            .and_then(|_| stdin.flush())
            .map_err(|e| {
                format!(
                    "cannot write to the service's stdin: {e}; {}",
                    self.stderr_tail()
                )
            })
    }

    /// The next stdout line, or `None` after `timeout` (or when stdout closed).
    pub fn read_line(&self, timeout: Duration) -> Option<String> {
        let rx = self.stdout.as_ref()?;
        match rx.recv_timeout(timeout) {
            Ok(l) => Some(l),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.stdin.take();
        let mut p = self.proc.lock().unwrap_or_else(|e| e.into_inner());
        let _ = p.kill();
        let _ = p.wait();
    }
}

/// A port nobody listens on right now, for the service to bind.
pub fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}
