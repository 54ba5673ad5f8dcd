//! Who does a user's HOME work (docs/safety.md, "Run as root"): never root.
//!
//! The commands that write under HOME (`setup`, `alias`, `undo`, `bench`) come through
//! [`enter`] once, in the CLI layer, before they read any file under HOME. When the
//! effective user is root and the HOME in use (or cclocal's folders under it) belongs to
//! another user, the process becomes that user the way `sudo -u USER` does — supplementary
//! groups (`initgroups`), then `setgid`, then `setuid` — and checks that root cannot be
//! taken back. Root's own HOME works as before.
//!
//! `setup` is split ([`enter_split`]): a child process does all the user's work as the
//! user; the parent stays root only to install the one system file that needs root (the
//! `ollama.service` drop-in), from settings the child sends it and the parent checks
//! again, recorded in root's own folder (`<root>/var/lib/cclocal`), never in the user's.

use crate::error::{Error, ErrorKind, Result};
use crate::paths::Paths;
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::{FromRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An account from the user database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
}

/// Whose HOME a run works on, seen from the process that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// Not root, or root on root's own HOME: no change.
    Own,
    /// Root on the HOME of this user.
    Other(Account),
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The account of `uid` (`getpwuid_r`), `None` when the user database has none.
pub fn account(uid: u32) -> Option<Account> {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid value to be filled in.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; the buffer outlives the reads below.
    let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if r != 0 || out.is_null() || pw.pw_name.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r filled pw_name with a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) }
        .to_string_lossy()
        .into_owned();
    Some(Account {
        uid: pw.pw_uid,
        gid: pw.pw_gid,
        name,
    })
}

/// The folders whose owner decides whose HOME this is: HOME itself and, where they exist,
/// cclocal's config and state folders, the XDG config folder and `~/.claude.json`'s folder.
fn owned_paths(paths: &Paths) -> Vec<PathBuf> {
    let mut v = vec![paths.home.clone()];
    for p in [
        paths.config_dir.clone(),
        paths.state_dir.clone(),
        paths.xdg_config.clone(),
        paths
            .claude_json
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    ] {
        if !p.as_os_str().is_empty() && !v.contains(&p) {
            v.push(p);
        }
    }
    v
}

/// Decides whose HOME `paths` is, for a process with effective user `euid`. Root with a
/// HOME (or a cclocal folder under it) owned by one other user: that user. Folders of two
/// different users, or a root-owned HOME holding a user's cclocal folders, are refused.
pub fn whose_home(paths: &Paths, euid: u32) -> Result<Home> {
    if euid != 0 {
        return Ok(Home::Own);
    }
    // HOME itself as it leads (a link to it counts for where it leads); the folders under
    // it as they are (a link there is its maker's).
    let home_owner = match std::fs::metadata(&paths.home) {
        Ok(m) => m.uid(),
        // No HOME yet: nothing of anyone's is there (root makes it, as before).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(Error::io(&paths.home, "inspect HOME", e)),
    };
    let mut others: Vec<(PathBuf, u32)> = Vec::new();
    if home_owner != 0 {
        others.push((paths.home.clone(), home_owner));
    }
    for p in owned_paths(paths).into_iter().skip(1) {
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            if m.uid() != 0 {
                others.push((p, m.uid()));
            }
        }
    }
    let Some((_, uid)) = others.first().cloned() else {
        return Ok(Home::Own);
    };
    let refuse = |why: String| {
        Error::new(ErrorKind::Usage, why)
            .with_subject(paths.home.display().to_string())
            .with_hint("run cclocal as the user whose HOME it is (`sudo -u USER cclocal …`), or fix the owners; nothing was changed")
    };
    if let Some((p, u)) = others.iter().find(|(_, u)| *u != uid) {
        return Err(refuse(format!(
            "{} belongs to uid {u}, but {} to uid {uid}; as root, cclocal works on one user's files only",
            p.display(),
            others[0].0.display()
        )));
    }
    if home_owner != uid {
        return Err(refuse(format!(
            "HOME belongs to root, but {} belongs to uid {uid}; as root, cclocal will not work on a user's files",
            others[0].0.display()
        )));
    }
    let acct = account(uid).ok_or_else(|| {
        refuse(format!(
            "HOME belongs to uid {uid}, which has no account here; cclocal will not do its work as root"
        ))
    })?;
    Ok(Home::Other(acct))
}

/// Becomes `acct` as `sudo -u` does: supplementary groups, group, user, in that order;
/// then checks that root cannot be taken back.
pub fn drop_to(acct: &Account) -> Result<()> {
    let fail = |what: &str| {
        Error::new(
            ErrorKind::Io,
            format!(
                "could not become {} (uid {}) before working on its HOME: {what} failed ({}); nothing was changed",
                acct.name,
                acct.uid,
                std::io::Error::last_os_error()
            ),
        )
        .with_hint(format!("run it as the user: sudo -u {} cclocal …", acct.name))
    };
    let name = CString::new(acct.name.as_bytes()).map_err(|_| fail("initgroups"))?;
    // SAFETY: plain system calls on values owned here; no memory is shared.
    unsafe {
        if libc::initgroups(name.as_ptr(), acct.gid as _) != 0 {
            return Err(fail("initgroups"));
        }
        if libc::setgid(acct.gid) != 0 {
            return Err(fail("setgid"));
        }
        if libc::setuid(acct.uid) != 0 {
            return Err(fail("setuid"));
        }
        let regained = libc::setuid(0) == 0 || libc::seteuid(0) == 0;
        if regained
            || libc::getuid() != acct.uid
            || libc::geteuid() != acct.uid
            || libc::getgid() != acct.gid
            || libc::getegid() != acct.gid
        {
            // Never go on half-dropped.
            eprintln!("error: could not give up root for {}; stopping", acct.name);
            libc::_exit(1);
        }
    }
    Ok(())
}

/// Set once this process gave up root for a user.
static DROPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process was root and now works as the HOME's owner.
pub fn dropped() -> bool {
    DROPPED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The line said once the process works as the user.
fn say_dropped(acct: &Account) {
    DROPPED.store(true, std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "cclocal: running as root on {}'s HOME: working as {} (uid {}), as `sudo -u {0}` would",
        acct.name, acct.name, acct.uid
    );
}

/// For a command that works on HOME: as root on another user's HOME, becomes that user
/// (before any file under HOME is read). Returns whom it became.
pub fn enter(paths: &Paths) -> Result<Option<Account>> {
    match whose_home(paths, euid())? {
        Home::Own => Ok(None),
        Home::Other(acct) => {
            drop_to(&acct)?;
            say_dropped(&acct);
            Ok(Some(acct))
        }
    }
}

/// Where [`enter_split`]'s child sends its request for root's part.
static CHANNEL: Mutex<Option<RawFd>> = Mutex::new(None);

/// In [`enter_split`]'s child: the parent (root) installs the system files.
pub fn root_does_system_part() -> bool {
    CHANNEL.lock().map(|c| c.is_some()).unwrap_or(false)
}

/// In [`enter_split`]'s child: sends root's part to the parent (once; later calls do
/// nothing).
pub fn send_to_root(request: &[u8]) -> Result<()> {
    let fd = CHANNEL.lock().ok().and_then(|mut c| c.take());
    let Some(fd) = fd else {
        return Ok(());
    };
    // SAFETY: the write end of the pipe, owned by this process from now on.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    f.write_all(request)
        .map_err(|e| Error::io(Path::new("the pipe to root"), "write", e))
}

/// How [`enter_split`] returned.
pub enum Split {
    /// Not root on another user's HOME: carry on as before.
    Same,
    /// This is the child, now the user; carry on with the command.
    Child(Account),
    /// This is the parent: the child ended with this code, and root's part was served.
    Parent(i32),
}

/// The most a child may send.
const MAX_REQUEST: u64 = 64 * 1024;

/// [`enter`] for `setup`: as root on another user's HOME, a child becomes the user and does
/// the command; the parent stays root, reads what the child asks of root (at most 64 KiB),
/// and once the child succeeded hands it to `serve` (which checks it again).
pub fn enter_split(paths: &Paths, serve: &dyn Fn(&[u8]) -> Result<i32>) -> Result<Split> {
    let acct = match whose_home(paths, euid())? {
        Home::Own => return Ok(Split::Same),
        Home::Other(a) => a,
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let mut fds = [0 as RawFd; 2];
    // SAFETY: a two-element array for pipe to fill; then flags on the two new descriptors
    // (close-on-exec: no program setup runs inherits them).
    let made = unsafe {
        libc::pipe(fds.as_mut_ptr()) == 0
            && libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC) == 0
            && libc::fcntl(fds[1], libc::F_SETFD, libc::FD_CLOEXEC) == 0
    };
    if !made {
        return Err(Error::io(
            Path::new("pipe"),
            "create",
            std::io::Error::last_os_error(),
        ));
    }
    let (read_fd, write_fd) = (fds[0], fds[1]);
    // SAFETY: the CLI has started no thread yet, so the child may run on freely.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::io(
            Path::new("fork"),
            "start",
            std::io::Error::last_os_error(),
        ));
    }
    if pid == 0 {
        // SAFETY: the read end belongs to the parent.
        unsafe { libc::close(read_fd) };
        drop_to(&acct)?;
        say_dropped(&acct);
        if let Ok(mut c) = CHANNEL.lock() {
            *c = Some(write_fd);
        }
        return Ok(Split::Child(acct));
    }
    // SAFETY: the write end belongs to the child.
    unsafe { libc::close(write_fd) };
    // SAFETY: the read end, owned here from now on.
    let f = unsafe { std::fs::File::from_raw_fd(read_fd) };
    let mut request = Vec::new();
    let _ = f.take(MAX_REQUEST).read_to_end(&mut request);
    let code = wait(pid);
    if code != 0 || request.is_empty() {
        return Ok(Split::Parent(code));
    }
    Ok(Split::Parent(serve(&request)?))
}

/// Waits for child `pid`; its exit code (128 + signal when killed).
fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return 1;
        }
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_root_is_always_own() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        assert_eq!(whose_home(&p, 1000).unwrap(), Home::Own);
    }

    #[test]
    fn roots_own_home_is_own() {
        if euid() != 0 {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        assert_eq!(whose_home(&p, 0).unwrap(), Home::Own);
    }

    #[test]
    fn a_users_state_folder_in_roots_home_is_refused() {
        if euid() != 0 {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        std::fs::create_dir_all(&p.state_dir).unwrap();
        std::os::unix::fs::lchown(&p.state_dir, Some(65534), Some(65534)).unwrap();
        let e = whose_home(&p, 0).unwrap_err();
        assert!(e.message.contains("HOME belongs to root"), "{e}");
        assert!(e.hint.unwrap_or_default().contains("sudo -u USER"));
    }
}
