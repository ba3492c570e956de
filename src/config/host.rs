//! What the host's network looks like, as far as validation needs to know: which interfaces exist and which IPv4
//! addresses they carry. Behind a trait so validation stays pure and testable with a fake host.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

/// One network interface of the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInterface {
    pub name: String,
    /// IPv4 addresses with their prefix, in the order the OS lists them.
    pub ipv4: Vec<Ipv4Net>,
}

/// A view of the host's interfaces.
pub trait HostNetwork {
    /// The interface called `name`, if the host has one.
    fn interface(&self, name: &str) -> Option<HostInterface>;
}

/// The interfaces of the network namespace this process runs in, read with getifaddrs(3).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsNetwork;

impl HostNetwork for OsNetwork {
    fn interface(&self, name: &str) -> Option<HostInterface> {
        let addrs = nix::ifaddrs::getifaddrs().ok()?;
        let mut found: Option<HostInterface> = None;
        for a in addrs.filter(|a| a.interface_name == name) {
            let iface = found.get_or_insert_with(|| HostInterface {
                name: name.to_string(),
                ipv4: Vec::new(),
            });
            let ip = a
                .address
                .as_ref()
                .and_then(|s| s.as_sockaddr_in())
                .map(|s| s.ip());
            let mask = a
                .netmask
                .as_ref()
                .and_then(|s| s.as_sockaddr_in())
                .map(|s| s.ip());
            if let (Some(ip), Some(mask)) = (ip, mask) {
                let prefix = u32::from(mask).leading_ones() as u8;
                if let Ok(net) = Ipv4Net::new(ip, prefix) {
                    iface.ipv4.push(net);
                }
            }
        }
        found
    }
}

/// A host made up by a test: a fixed table of interfaces.
#[derive(Debug, Default, Clone)]
pub struct FakeNetwork(pub BTreeMap<String, HostInterface>);

impl FakeNetwork {
    /// A host with the given interfaces, each `(name, ["10.99.0.1/24", ...])`.
    pub fn with(ifaces: &[(&str, &[&str])]) -> FakeNetwork {
        let mut map = BTreeMap::new();
        for (name, nets) in ifaces {
            let ipv4 = nets.iter().filter_map(|n| n.parse().ok()).collect();
            map.insert(
                name.to_string(),
                HostInterface {
                    name: name.to_string(),
                    ipv4,
                },
            );
        }
        FakeNetwork(map)
    }
}

impl HostNetwork for FakeNetwork {
    fn interface(&self, name: &str) -> Option<HostInterface> {
        self.0.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_has_loopback_with_its_address() {
        let lo = OsNetwork.interface("lo").expect("every Linux host has lo");
        assert!(
            lo.ipv4
                .iter()
                .any(|n| n.addr() == std::net::Ipv4Addr::LOCALHOST && n.prefix_len() == 8)
        );
        assert!(OsNetwork.interface("labboot-none0").is_none());
    }
}
