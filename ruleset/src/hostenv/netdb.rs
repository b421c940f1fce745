//! `services(5)` and `protocols(5)` databases: what `getservbyname`,
//! `getprotobyname` and `getprotobynumber` answer from.

use std::sync::OnceLock;

/// OpenBSD's `/etc/services` (rev 1.105), the numbering the conformance
/// corpus was printed with.
const OPENBSD_SERVICES: &str = include_str!("openbsd-services.txt");
/// OpenBSD's `/etc/protocols` (rev 1.24).
const OPENBSD_PROTOCOLS: &str = include_str!("openbsd-protocols.txt");

#[derive(Debug, Clone, PartialEq, Eq)]
struct Service {
    names: Vec<String>,
    port: u16,
    proto: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Protocol {
    /// Official name first, then aliases.
    names: Vec<String>,
    number: u8,
}

/// A parsed services + protocols pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NetDb {
    services: Vec<Service>,
    protocols: Vec<Protocol>,
}

impl NetDb {
    pub(crate) fn parse(services: &str, protocols: &str) -> NetDb {
        NetDb {
            services: parse_services(services),
            protocols: parse_protocols(protocols),
        }
    }

    /// The embedded OpenBSD files, parsed once.
    pub(crate) fn openbsd() -> &'static NetDb {
        static DB: OnceLock<NetDb> = OnceLock::new();
        DB.get_or_init(|| NetDb::parse(OPENBSD_SERVICES, OPENBSD_PROTOCOLS))
    }

    pub(crate) fn openbsd_services_text() -> &'static str {
        OPENBSD_SERVICES
    }

    pub(crate) fn openbsd_protocols_text() -> &'static str {
        OPENBSD_PROTOCOLS
    }

    /// `getservbyname(name, proto)`: first entry in file order whose name
    /// or alias matches, for that protocol.
    pub(crate) fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.services
            .iter()
            .find(|s| s.proto == proto && s.names.iter().any(|n| n == name))
            .map(|s| s.port)
    }

    pub(crate) fn protocol_number(&self, name: &str) -> Option<u8> {
        self.protocols
            .iter()
            .find(|p| p.names.iter().any(|n| n == name))
            .map(|p| p.number)
    }

    /// `getprotobynumber`: the official (first-column) name of the first
    /// entry with that number.
    pub(crate) fn protocol_name(&self, number: u8) -> Option<String> {
        self.protocols
            .iter()
            .find(|p| p.number == number)
            .and_then(|p| p.names.first().cloned())
    }
}

/// Fields of a line with its `#` comment removed.
fn fields(line: &str) -> std::str::SplitWhitespace<'_> {
    let data = match line.find('#') {
        Some(i) => &line[..i],
        None => line,
    };
    data.split_whitespace()
}

fn parse_services(text: &str) -> Vec<Service> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = fields(line);
        let (Some(name), Some(port_proto)) = (f.next(), f.next()) else {
            continue;
        };
        let Some((port, proto)) = port_proto.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let mut names = vec![name.to_string()];
        names.extend(f.map(str::to_string));
        out.push(Service {
            names,
            port,
            proto: proto.to_string(),
        });
    }
    out
}

fn parse_protocols(text: &str) -> Vec<Protocol> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = fields(line);
        let (Some(name), Some(number)) = (f.next(), f.next()) else {
            continue;
        };
        // Entries above 255 (OpenBSD's `divert 258`) cannot name an IP
        // protocol number, so pf never sees them.
        let Ok(number) = number.parse::<u8>() else {
            continue;
        };
        let mut names = vec![name.to_string()];
        names.extend(f.map(str::to_string));
        out.push(Protocol { names, number });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openbsd_services() {
        let db = NetDb::openbsd();
        for (name, port) in [
            ("ssh", 22),
            ("ftp", 21),
            ("smtp", 25),
            ("domain", 53),
            ("auth", 113),
            ("www", 80),
            ("http", 80),
            ("bgp", 179),
            ("echo", 7),
        ] {
            assert_eq!(db.service_port(name, "tcp"), Some(port), "{name}");
        }
        assert_eq!(db.service_port("domain", "udp"), Some(53));
        assert_eq!(db.service_port("ftp", "udp"), None);
        assert_eq!(db.service_port("nosuch", "tcp"), None);
    }

    #[test]
    fn openbsd_protocols() {
        let db = NetDb::openbsd();
        assert_eq!(db.protocol_number("tcp"), Some(6));
        assert_eq!(db.protocol_number("icmp6"), Some(58));
        assert_eq!(db.protocol_number("vrrp"), Some(112));
        assert_eq!(db.protocol_name(58).as_deref(), Some("ipv6-icmp"));
        assert_eq!(db.protocol_name(103).as_deref(), Some("pim"));
        assert_eq!(db.protocol_name(112).as_deref(), Some("carp"));
        assert_eq!(db.protocol_name(240).as_deref(), Some("pfsync"));
        assert_eq!(db.protocol_name(200), None);
        assert_eq!(db.protocol_number("divert"), None);
    }

    #[test]
    fn comments_and_junk_lines() {
        let db = NetDb::parse(
            "# c\nfoo 1/tcp bar # x\nbad\nbad2 x/tcp\n",
            "p 300\nq 9 Q\n",
        );
        assert_eq!(db.service_port("bar", "tcp"), Some(1));
        assert_eq!(db.protocol_number("Q"), Some(9));
        assert_eq!(db.protocol_number("p"), None);
    }
}
