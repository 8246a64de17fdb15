//! Where Spontra agrees to post: the server-side request forgery guard for webhooks.
//!
//! A webhook's address is the user's to choose, so it could name something only the server
//! can reach — the cloud's metadata service (169.254.169.254), a database on the private
//! network, the server itself. An address is refused unless every IP it resolves to is a
//! public unicast address; the check runs when the webhook is registered (a clear refusal) and
//! again before each delivery, whose connection then goes to exactly the addresses checked
//! (pinned, so a DNS answer that changes between the check and the connection — DNS
//! rebinding — cannot slip a private address in). Redirects are not followed and proxies from
//! the environment are not used.
//!
//! Loopback is refused too, except under an explicit allowance ([`Policy::allow_loopback`],
//! for tests and local development); plain `http` is accepted only to loopback, under that
//! allowance. Everything else must be `https`.

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The longest address accepted.
pub const MAX_URL_LEN: usize = 2_000;

/// What the guard lets through beyond public addresses.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    /// Accept loopback addresses (and plain `http` to them). Off in production.
    pub allow_loopback: bool,
}

/// Why an address cannot be posted to.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    /// The address is not one Spontra posts to (and never will be).
    #[error("{0}")]
    Address(String),
    /// The name did not resolve now (it may later).
    #[error("{0}")]
    Lookup(String),
}

impl Policy {
    /// Check an address as written: a URL of at most [`MAX_URL_LEN`] characters, `https` (or
    /// `http` to loopback under the allowance), with a host, without credentials or fragment,
    /// and — when the host is an IP address — a public one.
    pub fn parse(&self, raw: &str) -> Result<Url, Refused> {
        let refuse = |why: &str| Err(Refused::Address(why.to_string()));
        if raw.len() > MAX_URL_LEN {
            return refuse("the address is longer than 2,000 characters");
        }
        let Ok(url) = Url::parse(raw.trim()) else {
            return refuse("not an absolute http(s) URL");
        };
        if !matches!(url.scheme(), "https" | "http") {
            return refuse("the address must start with https://");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("the address must not carry a user name or password");
        }
        if url.fragment().is_some() {
            return refuse("the address must not have a #fragment");
        }
        match url.host() {
            None => return refuse("the address has no host"),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip), url.scheme())?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip), url.scheme())?,
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.');
                let local = name == "localhost" || name.ends_with(".localhost");
                if url.scheme() == "http" && !(local && self.allow_loopback) {
                    return refuse("the address must start with https://");
                }
                if local && !self.allow_loopback {
                    return refuse("the address is this server's own (loopback)");
                }
            }
        }
        Ok(url)
    }

    /// The addresses to connect to for `url` (already [`Policy::parse`]d), every one checked.
    /// A name that resolves to any refused address is refused as a whole.
    pub async fn resolve(&self, url: &Url, within: Duration) -> Result<Vec<SocketAddr>, Refused> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Refused::Address("the address has no port".into()))?;
        let addrs: Vec<SocketAddr> = match url.host() {
            None => return Err(Refused::Address("the address has no host".into())),
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(name)) => {
                match tokio::time::timeout(within, tokio::net::lookup_host((name, port))).await {
                    Ok(Ok(found)) => found.collect(),
                    Ok(Err(e)) => {
                        return Err(Refused::Lookup(format!("{name} did not resolve: {e}")))
                    }
                    Err(_) => {
                        return Err(Refused::Lookup(format!("{name} did not resolve in time")))
                    }
                }
            }
        };
        if addrs.is_empty() {
            return Err(Refused::Lookup("the name has no addresses".into()));
        }
        for a in &addrs {
            self.check_ip(a.ip(), url.scheme())?;
        }
        Ok(addrs)
    }

    fn check_ip(&self, ip: IpAddr, scheme: &str) -> Result<(), Refused> {
        let loopback = is_loopback(ip);
        if loopback && self.allow_loopback {
            return Ok(());
        }
        if scheme == "http" {
            return Err(Refused::Address(
                "the address must start with https://".into(),
            ));
        }
        if loopback {
            return Err(Refused::Address(
                "the address is this server's own (loopback)".into(),
            ));
        }
        if !is_public(ip) {
            return Err(Refused::Address(format!(
                "{ip} is a private, link-local or reserved address"
            )));
        }
        Ok(())
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether `ip` is a public unicast address: IPv4 outside every special-purpose block (RFC
/// 6890 and successors), IPv6 inside global unicast `2000::/3` outside its special blocks (an
/// IPv4 address carried inside IPv6 is judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10 // private
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // 6to4 (2002::/16) carries one in bits 16..48.
    if s[0] == 0x2002 {
        return public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8;
    let special = s[0] == 0x2001 && s[1] < 0x0200; // Teredo, benchmarking, ORCHID and kin
    global_unicast && !documentation && !special
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Policy = Policy {
        allow_loopback: false,
    };
    const TESTING: Policy = Policy {
        allow_loopback: true,
    };

    fn refused(policy: Policy, url: &str) -> bool {
        matches!(policy.parse(url), Err(Refused::Address(_)))
    }

    #[test]
    fn public_addresses_pass_and_special_ones_do_not() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "151.101.1.69",
            "2606:4700:4700::1111",
            "2a00:1450:4001:82b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "127.5.5.5",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.170",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "2002:0a00:0001::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "100::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        // Neighbours of the blocks are public.
        for ip in [
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.1.1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn addresses_as_written_are_checked() {
        assert!(STRICT
            .parse("https://hooks.example.com/spontra?x=1")
            .is_ok());
        assert!(STRICT.parse("https://8.8.8.8:8443/hook").is_ok());
        for url in [
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "file:///etc/passwd",
            "gopher://127.0.0.1:6379/_FLUSHALL",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://10.0.0.5/",
            "https://0x7f000001/",
            "https://2130706433/",
            "https://127.1/",
            "https://localhost/",
            "https://api.localhost/",
            "https://[::1]:9000/",
            "https://user:pass@hooks.example.com/",
            "https://hooks.example.com/#x",
            "/relative",
            "not a url",
            "",
        ] {
            assert!(refused(STRICT, url), "{url}");
        }
        assert!(refused(
            STRICT,
            &format!("https://e.com/{}", "a".repeat(2_000))
        ));
        // The test allowance: loopback, by http too; still nothing private, still no plain
        // http elsewhere.
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost:9/",
            "https://[::1]/",
        ] {
            assert!(TESTING.parse(url).is_ok(), "{url}");
        }
        for url in [
            "http://hooks.example.com/",
            "http://10.0.0.1/",
            "https://169.254.169.254/",
            "http://8.8.8.8/",
        ] {
            assert!(refused(TESTING, url), "{url}");
        }
    }

    #[tokio::test]
    async fn resolved_addresses_are_checked_and_returned() {
        let url = TESTING.parse("http://127.0.0.1:4567/x").unwrap();
        assert_eq!(
            TESTING.resolve(&url, Duration::from_secs(2)).await.unwrap(),
            ["127.0.0.1:4567".parse::<SocketAddr>().unwrap()]
        );
        // `localhost` names this machine: refused without the allowance, whatever the URL said.
        let url = Url::parse("https://localhost:4567/x").unwrap();
        let strict = STRICT.resolve(&url, Duration::from_secs(2)).await;
        assert!(matches!(strict, Err(Refused::Address(_))), "{strict:?}");
        let allowed = TESTING.resolve(&url, Duration::from_secs(2)).await.unwrap();
        assert!(allowed
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 4567));
    }
}
