//! Builds the phone app (`pwa/`) into `pwa/dist/`, which `api/http/app.rs` embeds in the binary.
//!
//! npm runs only when `pwa/dist/index.html` is missing or older than one of the app's sources (or
//! the last build did not finish); cargo itself reruns this script only when one of those sources
//! changed, so a build with nothing new never starts npm. `npm ci` runs first when `node_modules/`
//! is missing or older than `package-lock.json`. A failed npm build fails the cargo build and
//! shows npm's output. `ROUNDTABLE_SKIP_PWA_BUILD=1` skips npm for those who build the app
//! themselves (`cd pwa && npm ci && npm run build`); the dist must then exist.
//!
//! Two cargo commands (say clippy and test) may run this script at once: a lock file,
//! `pwa/.dist.lock`, lets one build while the other waits and then finds the dist fresh. The file
//! also says whether a build is under way, so a build that was interrupted or failed after vite
//! wrote `index.html` is never taken for a finished one.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What the app's build reads (the build also writes `pwa/generated/` and `pwa/dist/`, which
/// must not be here: the script would rerun forever).
const SOURCES: [&str; 8] = [
    "pwa/src",
    "pwa/public",
    "pwa/index.html",
    "pwa/package.json",
    "pwa/package-lock.json",
    "pwa/vite.config.ts",
    "pwa/tsconfig.json",
    "openapi/openapi.json",
];
const SKIP: &str = "ROUNDTABLE_SKIP_PWA_BUILD";
const BUILDING: &[u8] = b"building\n";

fn main() {
    for source in SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }
    println!("cargo:rerun-if-env-changed={SKIP}");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    if let Err(message) = run(&root) {
        eprintln!("\nerror: {message}\n");
        std::process::exit(1);
    }
}

fn run(root: &Path) -> Result<(), String> {
    let pwa = root.join("pwa");
    let index = pwa.join("dist/index.html");
    if std::env::var(SKIP).is_ok_and(|v| !v.is_empty() && v != "0") {
        return match index.exists() {
            true => Ok(()),
            false => Err(format!(
                "{SKIP} is set but {} is missing: build the app first (cd pwa && npm ci && npm run build)",
                index.display()
            )),
        };
    }
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(pwa.join(".dist.lock"))
        .map_err(|e| format!("opening pwa/.dist.lock: {e}"))?;
    lock.lock().map_err(|e| format!("locking pwa/.dist.lock: {e}"))?;
    let mut state = Vec::new();
    lock.read_to_end(&mut state).map_err(|e| format!("reading pwa/.dist.lock: {e}"))?;
    let interrupted = state == BUILDING;
    let newest_source = SOURCES.iter().filter_map(|s| newest(&root.join(s))).max();
    let built = modified(&index);
    let fresh = !interrupted && matches!((built, newest_source), (Some(b), Some(s)) if b >= s);
    if fresh {
        return Ok(());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return match built {
            Some(_) => {
                println!(
                    "cargo:warning=pwa/dist is older than the app's sources and npm is not installed: \
                     embedding the old build (install Node 20 and npm to rebuild it)"
                );
                Ok(())
            }
            None => Err("the phone app (pwa/) is not built and npm is not installed: install Node 20 and npm \
                 (e.g. `apt-get install nodejs npm`), or build pwa/dist elsewhere and set ROUNDTABLE_SKIP_PWA_BUILD=1"
                .to_string()),
        };
    }
    write_state(&mut lock, BUILDING)?;
    let modules = modified(&pwa.join("node_modules/.package-lock.json"));
    let lockfile = modified(&pwa.join("package-lock.json"));
    if modules.is_none() || lockfile > modules {
        npm(&pwa, &["ci", "--no-audit", "--no-fund"])?;
    }
    npm(&pwa, &["run", "build"])?;
    if !index.exists() {
        return Err("`npm run build` succeeded but wrote no pwa/dist/index.html".to_string());
    }
    write_state(&mut lock, b"")?;
    Ok(())
}

/// Runs npm in `pwa/`, quietly; on failure, the error carries everything npm said.
fn npm(pwa: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("npm")
        .args(args)
        .current_dir(pwa)
        // Cargo's `DEBUG=true` would switch on the `debug` package's logging in the build tools.
        .env_remove("DEBUG")
        .output()
        .map_err(|e| format!("running npm {}: {e}", args.join(" ")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "building the phone app failed: `npm {}` in pwa/ exited with {}\n\n{}{}\n\
         Fix the app (or its types against openapi/openapi.json), or build it yourself and set {SKIP}=1.",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    ))
}

fn write_state(lock: &mut File, state: &[u8]) -> Result<(), String> {
    let write = |lock: &mut File| -> std::io::Result<()> {
        lock.set_len(0)?;
        lock.rewind()?;
        lock.write_all(state)?;
        lock.sync_data()
    };
    write(lock).map_err(|e| format!("writing pwa/.dist.lock: {e}"))
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of a folder and everything in it (a folder's own
/// time counts too: it changes when a file in it is deleted). An empty file counts as not there:
/// `cargo run -- openapi > openapi/openapi.json` empties the document before cargo builds, and
/// the app is rebuilt against it once it is written (cargo sees it change again).
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = fs::metadata(path).ok()?;
    if meta.is_file() {
        return (meta.len() > 0).then(|| meta.modified().ok()).flatten();
    }
    let own = meta.modified().ok();
    let children = fs::read_dir(path).ok()?.filter_map(|entry| entry.ok()).filter_map(|entry| newest(&entry.path()));
    children.chain(own).max()
}
