//! The `zk://` URL grammar Mesos accepts, and the `file://` indirection of
//! its `--master` / `--zk` flags.
//!
//! Mesos 1.11 reads `zk://[user:password@]host1:port1,host2:port2/path`:
//! the path starts at the first `/` after the scheme, the credentials end at
//! the last `@` before it, and the credentials are ZooKeeper `digest`
//! credentials (`user:password`). A master detector needs a path other than
//! `/`. `file:///some/file` stands for the (trimmed) content of that file.
//!
//! Where Mesos hands the server list to the ZooKeeper C client unchecked,
//! [`ZkUrl::parse`] checks it here and says what is wrong with a typed
//! [`UrlError`]; a password never appears in a `Display`, a `Debug` or an
//! error.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The scheme of a ZooKeeper URL.
pub const ZK_SCHEME: &str = "zk://";

/// The scheme of Mesos's file indirection (`file:///path` whose content is
/// the master flag).
pub const FILE_SCHEME: &str = "file://";

/// The port of a server written without one (ZooKeeper's client port).
pub const DEFAULT_ZK_PORT: u16 = 2181;

/// The largest `file://` file read: a master flag is one line.
pub const MAX_FILE_LEN: u64 = 64 * 1024;

/// How many `file://` indirections in a row are followed (Mesos follows
/// them without bound; a file naming itself would never end).
pub const MAX_FILE_INDIRECTIONS: usize = 4;

/// What is wrong with a master URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL does not start with `zk://`.
    #[error("expecting 'zk://' at the beginning of the ZooKeeper URL")]
    Scheme,
    /// No server between `zk://` (or the credentials) and the path.
    #[error("the ZooKeeper URL names no server (expecting zk://host:port[,host:port...]/path)")]
    NoServers,
    /// One server of the list is not `host[:port]`.
    #[error("invalid ZooKeeper server {server:?}: {reason}")]
    Server {
        /// The server as written.
        server: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The path is `/` (or missing): Mesos needs a chroot path for masters.
    #[error("expecting a (chroot) path in the ZooKeeper URL ('/' is not supported), e.g. zk://host:2181/mesos")]
    PathRequired,
    /// The path is not a valid ZooKeeper path.
    #[error("invalid ZooKeeper path {path:?}: {reason}")]
    Path {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The part before `@` is not `user:password` (the `digest` scheme).
    #[error("invalid ZooKeeper credentials: expecting user:password before '@' (digest scheme)")]
    Credentials,
    /// A `file://` master flag could not be read.
    #[error("failed to read the master flag from file {path:?}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `file://` master flag is larger than [`MAX_FILE_LEN`].
    #[error("the master flag file {path:?} is larger than {MAX_FILE_LEN} bytes")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
    },
    /// More than [`MAX_FILE_INDIRECTIONS`] `file://` in a row.
    #[error("more than {MAX_FILE_INDIRECTIONS} file:// indirections in a row")]
    TooManyIndirections,
}

/// One ZooKeeper server of a [`ZkUrl`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ZkServer {
    /// Host name or IP address (an IPv6 address without brackets).
    pub host: String,
    /// Client port.
    pub port: u16,
}

impl fmt::Display for ZkServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// ZooKeeper `digest` credentials (`user:password`). `Debug` and `Display`
/// show the user only.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkCredentials {
    user: String,
    password: String,
}

impl ZkCredentials {
    /// Credentials for `user` with `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        ZkCredentials {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The `user:password` bytes ZooKeeper's `digest` scheme takes (secret:
    /// do not log).
    pub fn digest_auth(&self) -> Vec<u8> {
        format!("{}:{}", self.user, self.password).into_bytes()
    }
}

impl fmt::Debug for ZkCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZkCredentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl fmt::Display for ZkCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:<redacted>", self.user)
    }
}

/// A parsed `zk://` URL: servers, the group path the masters' znodes live
/// under, and optional digest credentials.
///
/// ```
/// use mesos_zookeeper::ZkUrl;
///
/// let url: ZkUrl = "zk://fw:s3cret@zk1:2181,zk2/mesos".parse()?;
/// assert_eq!(url.connect_string(), "zk1:2181,zk2:2181");
/// assert_eq!(url.path(), "/mesos");
/// assert_eq!(url.credentials().map(|c| c.user()), Some("fw"));
/// // The password never shows.
/// assert_eq!(url.to_string(), "zk://fw:<redacted>@zk1:2181,zk2:2181/mesos");
/// assert!(!format!("{url:?}").contains("s3cret"));
/// # Ok::<(), mesos_zookeeper::UrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ZkUrl {
    servers: Vec<ZkServer>,
    path: String,
    credentials: Option<ZkCredentials>,
}

impl ZkUrl {
    /// Parses `url` as Mesos does (the path starts at the first `/`, the
    /// credentials end at the last `@` before it), and checks each server
    /// and the path.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let rest = url.trim().strip_prefix(ZK_SCHEME).ok_or(UrlError::Scheme)?;
        // The path starts at the first '/'; credentials end at the last '@'
        // before it.
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let (credentials, servers) = match authority.rfind('@') {
            Some(at) => (
                Some(parse_credentials(&authority[..at])?),
                &authority[at + 1..],
            ),
            None => (None, authority),
        };
        let servers = servers
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(parse_server)
            .collect::<Result<Vec<_>, _>>()?;
        ZkUrl::new(servers, path, credentials)
    }

    /// A URL from its parts (`path` is checked like a parsed one).
    pub fn new(
        servers: Vec<ZkServer>,
        path: &str,
        credentials: Option<ZkCredentials>,
    ) -> Result<Self, UrlError> {
        if servers.is_empty() {
            return Err(UrlError::NoServers);
        }
        Ok(ZkUrl {
            servers,
            path: parse_path(path)?,
            credentials,
        })
    }

    /// The servers, in the order given.
    pub fn servers(&self) -> &[ZkServer] {
        &self.servers
    }

    /// The group path: absolute, without a trailing `/`, never `/` itself.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The digest credentials, if any.
    pub fn credentials(&self) -> Option<&ZkCredentials> {
        self.credentials.as_ref()
    }

    /// `host:port,host:port` for the ZooKeeper client (no chroot: the
    /// group path is used as an absolute path).
    pub fn connect_string(&self) -> String {
        let servers: Vec<String> = self.servers.iter().map(ZkServer::to_string).collect();
        servers.join(",")
    }

    /// The same URL with other servers (e.g. through a proxy).
    pub fn with_servers(&self, servers: Vec<ZkServer>) -> Result<Self, UrlError> {
        if servers.is_empty() {
            return Err(UrlError::NoServers);
        }
        Ok(ZkUrl {
            servers,
            ..self.clone()
        })
    }

    /// The same URL with another group path (e.g. one per test).
    pub fn with_path(&self, path: &str) -> Result<Self, UrlError> {
        Ok(ZkUrl {
            path: parse_path(path)?,
            ..self.clone()
        })
    }
}

/// Shows the password as `<redacted>`.
impl fmt::Display for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ZK_SCHEME)?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{credentials}@")?;
        }
        write!(f, "{}{}", self.connect_string(), self.path)
    }
}

/// `ZkUrl("zk://user:<redacted>@host:port/path")`.
impl fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ZkUrl").field(&self.to_string()).finish()
    }
}

impl FromStr for ZkUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ZkUrl::parse(s)
    }
}

fn parse_credentials(credentials: &str) -> Result<ZkCredentials, UrlError> {
    match credentials.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok(ZkCredentials::new(user, password)),
        _ => Err(UrlError::Credentials),
    }
}

fn parse_server(server: &str) -> Result<ZkServer, UrlError> {
    let server = server.trim();
    let bad = |reason| UrlError::Server {
        server: server.to_string(),
        reason,
    };
    let (host, port) = if let Some(bracketed) = server.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| bad("unclosed '[' of an IPv6 address"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| bad("expecting ':port' after ']'"))?,
            ),
        };
        (host, port)
    } else {
        match server.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (server, None),
        }
    };
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c == '@' || c == '/')
    {
        return Err(bad("the host contains a space, '@' or '/'"));
    }
    let port = match port {
        None => DEFAULT_ZK_PORT,
        Some(port) => match port.parse::<u16>() {
            Ok(0) | Err(_) => return Err(bad("the port is not a number in 1..=65535")),
            Ok(port) => port,
        },
    };
    Ok(ZkServer {
        host: host.to_string(),
        port,
    })
}

/// An absolute ZooKeeper path without trailing `/`, other than `/`.
fn parse_path(path: &str) -> Result<String, UrlError> {
    let bad = |reason| UrlError::Path {
        path: path.to_string(),
        reason,
    };
    if !path.starts_with('/') {
        return Err(bad("not absolute"));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(UrlError::PathRequired);
    }
    for segment in trimmed[1..].split('/') {
        match segment {
            "" => return Err(bad("empty segment ('//')")),
            "." | ".." => return Err(bad("'.' and '..' segments are not allowed")),
            "zookeeper" if trimmed == "/zookeeper" => {
                return Err(bad("/zookeeper is reserved by ZooKeeper"))
            }
            s if s.chars().any(|c| c.is_control()) => {
                return Err(bad("control characters are not allowed"))
            }
            _ => {}
        }
    }
    Ok(trimmed.to_string())
}

/// What a Mesos `--master` flag names, once `file://` indirections are
/// followed: a ZooKeeper group, or anything else (a master's address, for
/// the caller to interpret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterFlag {
    /// `zk://...`: detect the leader through ZooKeeper.
    ZooKeeper(ZkUrl),
    /// Anything else, trimmed (e.g. `http://host:5050` or `host:5050`).
    Direct(String),
}

impl MasterFlag {
    /// Resolves `flag` as `MasterDetector::create` in Mesos 1.11 does:
    /// `zk://` is parsed as a [`ZkUrl`], `file://PATH` is replaced by the
    /// trimmed content of `PATH` (at most [`MAX_FILE_LEN`] bytes, at most
    /// [`MAX_FILE_INDIRECTIONS`] times in a row), anything else is
    /// [`MasterFlag::Direct`].
    pub fn resolve(flag: &str) -> Result<Self, UrlError> {
        let mut flag = flag.trim().to_string();
        for _ in 0..=MAX_FILE_INDIRECTIONS {
            if flag.starts_with(ZK_SCHEME) {
                return ZkUrl::parse(&flag).map(MasterFlag::ZooKeeper);
            }
            let Some(path) = flag.strip_prefix(FILE_SCHEME) else {
                return Ok(MasterFlag::Direct(flag));
            };
            flag = read_flag_file(PathBuf::from(path))?;
        }
        Err(UrlError::TooManyIndirections)
    }
}

fn read_flag_file(path: PathBuf) -> Result<String, UrlError> {
    use std::io::Read;
    let file = std::fs::File::open(&path).map_err(|source| UrlError::File {
        path: path.clone(),
        source,
    })?;
    let mut content = String::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_string(&mut content)
        .map_err(|source| UrlError::File {
            path: path.clone(),
            source,
        })?;
    if content.len() as u64 > MAX_FILE_LEN {
        return Err(UrlError::FileTooLarge { path });
    }
    Ok(content.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str, port: u16) -> ZkServer {
        ZkServer {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_what_mesos_accepts() {
        let url = ZkUrl::parse("  zk://zk1:2181,zk2:2182,zk3/mesos  ").unwrap();
        assert_eq!(
            url.servers(),
            [
                server("zk1", 2181),
                server("zk2", 2182),
                server("zk3", 2181)
            ]
        );
        assert_eq!(url.path(), "/mesos");
        assert_eq!(url.credentials(), None);

        let url = ZkUrl::parse("zk://u:p@ss:w@rd@10.0.0.1:2181/a/b/").unwrap();
        // The last '@' ends the credentials; the first ':' splits them.
        let credentials = url.credentials().unwrap();
        assert_eq!(credentials.user(), "u");
        assert_eq!(credentials.digest_auth(), b"u:p@ss:w@rd");
        assert_eq!(url.servers(), [server("10.0.0.1", 2181)]);
        assert_eq!(url.path(), "/a/b");

        let url = ZkUrl::parse("zk://[::1]:2181,[fe80::1]/mesos").unwrap();
        assert_eq!(
            url.servers(),
            [server("::1", 2181), server("fe80::1", 2181)]
        );
        assert_eq!(url.connect_string(), "[::1]:2181,[fe80::1]:2181");
    }

    #[test]
    fn rejects_with_typed_errors() {
        type Check = fn(&UrlError) -> bool;
        let cases: [(&str, Check); 10] = [
            ("http://zk:2181/mesos", |e| matches!(e, UrlError::Scheme)),
            ("zk:///mesos", |e| matches!(e, UrlError::NoServers)),
            ("zk://u:p@/mesos", |e| matches!(e, UrlError::NoServers)),
            ("zk://zk:2181", |e| matches!(e, UrlError::PathRequired)),
            ("zk://zk:2181/", |e| matches!(e, UrlError::PathRequired)),
            ("zk://zk:2181/a//b", |e| matches!(e, UrlError::Path { .. })),
            ("zk://zk:2181/a/../b", |e| {
                matches!(e, UrlError::Path { .. })
            }),
            ("zk://zk:99999/mesos", |e| {
                matches!(e, UrlError::Server { .. })
            }),
            ("zk://nocolon@zk/mesos", |e| {
                matches!(e, UrlError::Credentials)
            }),
            ("zk://[::1/mesos", |e| matches!(e, UrlError::Server { .. })),
        ];
        for (url, expected) in cases {
            let err = ZkUrl::parse(url).unwrap_err();
            assert!(expected(&err), "{url}: {err:?}");
        }
    }

    #[test]
    fn never_shows_the_password() {
        let url = ZkUrl::parse("zk://fw:hunter2@zk:2181/mesos").unwrap();
        let shown = format!("{url} {url:?} {:?}", url.credentials());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("zk://fw:<redacted>@zk:2181/mesos"),
            "{shown}"
        );
        let err = ZkUrl::parse("zk://fw:hunter2@zk:0/mesos").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    }

    #[test]
    fn file_indirection_is_followed_and_bounded() {
        let dir = std::env::temp_dir().join(format!("mesos-zk-url-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inner = dir.join("inner");
        let outer = dir.join("outer");
        let looped = dir.join("loop");
        std::fs::write(&inner, "  zk://zk1:2181/mesos\n").unwrap();
        std::fs::write(&outer, format!("file://{}\n", inner.display())).unwrap();
        std::fs::write(&looped, format!("file://{}", looped.display())).unwrap();
        let expected = MasterFlag::ZooKeeper(ZkUrl::parse("zk://zk1:2181/mesos").unwrap());
        assert_eq!(
            MasterFlag::resolve(&format!("file://{}", outer.display())).unwrap(),
            expected
        );
        assert!(matches!(
            MasterFlag::resolve(&format!("file://{}", looped.display())),
            Err(UrlError::TooManyIndirections)
        ));
        assert!(matches!(
            MasterFlag::resolve(&format!("file://{}", dir.join("missing").display())),
            Err(UrlError::File { .. })
        ));
        assert_eq!(
            MasterFlag::resolve(" 10.0.0.1:5050 ").unwrap(),
            MasterFlag::Direct("10.0.0.1:5050".into())
        );
        let big = dir.join("big");
        std::fs::write(&big, vec![b'x'; MAX_FILE_LEN as usize + 1]).unwrap();
        assert!(matches!(
            MasterFlag::resolve(&format!("file://{}", big.display())),
            Err(UrlError::FileTooLarge { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    proptest::proptest! {
        #[test]
        fn display_parses_back(
            hosts in proptest::collection::vec(("[a-z][a-z0-9.-]{0,12}", 1u16..), 1..4),
            segments in proptest::collection::vec("[a-zA-Z0-9_.-]{1,8}", 1..4),
            user in proptest::option::of(("[a-z]{1,8}", "[ -~]{0,12}")),
        ) {
            proptest::prop_assume!(segments.iter().all(|s| s != "." && s != ".."));
            let servers: Vec<String> = hosts.iter().map(|(h, p)| format!("{h}:{p}")).collect();
            let path = format!("/{}", segments.join("/"));
            let auth = user.as_ref().map(|(u, p)| format!("{u}:{p}@")).unwrap_or_default();
            let text = format!("zk://{auth}{}{path}", servers.join(","));
            // A password containing '/' moves the path start, as in Mesos.
            proptest::prop_assume!(!auth.contains('/'));
            let url = ZkUrl::parse(&text).unwrap();
            proptest::prop_assert_eq!(url.path(), path.as_str());
            proptest::prop_assert_eq!(url.connect_string(), servers.join(","));
            proptest::prop_assert_eq!(url.credentials().map(|c| c.digest_auth()),
                user.map(|(u, p)| format!("{u}:{p}").into_bytes()));
        }

        #[test]
        fn parse_never_panics(text in "zk://[ -~]{0,40}") {
            let _ = ZkUrl::parse(&text);
        }
    }
}
