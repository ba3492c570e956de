//! From TOML text to a [`Config`]: syntax, then serde per section and per array element (so that one bad element
//! does not hide the errors of the next), then the semantic checks. Every error found is collected.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use ipnet::Ipv4Net;
use serde::de::DeserializeOwned;

use super::raw;
use super::*;
use crate::types::{Ipv4Range, MacAddr, parse_duration};

const SECTIONS: &[&str] = &[
    "server",
    "interface",
    "dhcp",
    "tftp",
    "http",
    "api",
    "image",
    "machine",
];

/// Collects errors and warnings with their paths.
#[derive(Default)]
struct Report {
    errors: Vec<ConfigError>,
    warnings: Vec<Warning>,
}

impl Report {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path: path.into(),
            message: message.into(),
        });
    }

    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Deserializes `value` as `T`, reporting the first serde error inside it with its full path.
    fn de<T: DeserializeOwned>(&mut self, value: toml::Value, path: &str) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let inner = e.path().to_string();
                let full = if inner == "." {
                    path.to_string()
                } else {
                    format!("{path}.{inner}")
                };
                self.err(full, e.into_inner().message().trim().to_string());
                None
            }
        }
    }

    /// An array of tables (`[[name]]`), each element deserialized on its own. Failed elements are `None` so that
    /// indices in later messages still match the file.
    fn de_array<T: DeserializeOwned>(
        &mut self,
        value: Option<toml::Value>,
        path: &str,
    ) -> Vec<Option<T>> {
        match value {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| self.de(v, &format!("{path}[{i}]")))
                .collect(),
            Some(_) => {
                self.err(path, format!("expected an array of tables ([[{path}]])"));
                Vec::new()
            }
        }
    }

    fn duration(&mut self, value: Option<&str>, default: Duration, path: &str) -> Duration {
        match value.map(parse_duration) {
            None => default,
            Some(Ok(d)) if d.is_zero() => {
                self.err(path, "must be longer than zero");
                default
            }
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                self.err(path, e.to_string());
                default
            }
        }
    }

    fn ipv4(&mut self, value: &str, path: &str) -> Option<Ipv4Addr> {
        match value.trim().parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                self.err(path, format!("{value:?} is not an IPv4 address"));
                None
            }
        }
    }
}

pub(super) fn validate(text: &str, host: &dyn HostNetwork) -> Result<Loaded, Vec<ConfigError>> {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            let path = match e.span() {
                Some(span) => {
                    let before = text.get(..span.start).unwrap_or(text);
                    let line = before.matches('\n').count() + 1;
                    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {col}")
                }
                None => "syntax".to_string(),
            };
            return Err(vec![ConfigError {
                path,
                message: e.message().trim().to_string(),
            }]);
        }
    };
    let mut r = Report::default();
    let mut sections: BTreeMap<String, toml::Value> = BTreeMap::new();
    for (key, value) in table {
        if SECTIONS.contains(&key.as_str()) {
            sections.insert(key, value);
        } else {
            r.err(
                key,
                format!("unknown key; expected one of {}", SECTIONS.join(", ")),
            );
        }
    }
    let mut take = |name: &str| sections.remove(name);

    let server: raw::Server = take("server")
        .and_then(|v| r.de(v, "server"))
        .unwrap_or_default();
    let ifaces: Vec<Option<raw::Interface>> = r.de_array(take("interface"), "interface");
    let dhcp_value = take("dhcp");
    let dhcp_present = dhcp_value.is_some();
    let (dhcp, subnets) = match dhcp_value {
        Some(toml::Value::Table(mut t)) => {
            let subnets = t.remove("subnet");
            let dhcp = r
                .de::<raw::Dhcp>(toml::Value::Table(t), "dhcp")
                .unwrap_or_default();
            (dhcp, r.de_array::<raw::Subnet>(subnets, "dhcp.subnet"))
        }
        Some(_) => {
            r.err("dhcp", "expected a table ([dhcp])");
            (raw::Dhcp::default(), Vec::new())
        }
        None => (raw::Dhcp::default(), Vec::new()),
    };
    let tftp_value = take("tftp");
    let tftp_present = tftp_value.is_some();
    let tftp: raw::Tftp = tftp_value.and_then(|v| r.de(v, "tftp")).unwrap_or_default();
    let http: raw::Http = take("http")
        .and_then(|v| r.de(v, "http"))
        .unwrap_or_default();
    let api: raw::Api = take("api").and_then(|v| r.de(v, "api")).unwrap_or_default();
    let images: Vec<Option<raw::Image>> = r.de_array(take("image"), "image");
    let machines: Vec<Option<raw::Machine>> = r.de_array(take("machine"), "machine");

    // [server]
    let data_dir = server
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/var/lib/labboot"));
    if !data_dir.is_absolute() {
        r.err(
            "server.data_dir",
            format!("{} must be an absolute path", data_dir.display()),
        );
    }
    let shutdown_timeout = r.duration(
        server.shutdown_timeout.as_deref(),
        Duration::from_secs(10),
        "server.shutdown_timeout",
    );

    let interfaces = check_interfaces(&mut r, &ifaces, host);
    let dhcp = check_dhcp(&mut r, dhcp_present, &dhcp, &subnets, &interfaces);

    // [tftp]
    let tftp_root = match &tftp.root {
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => data_dir.join(p),
        None => data_dir.join("tftp"),
    };
    let tftp = TftpConfig {
        enabled: tftp.enabled.unwrap_or(tftp_present),
        root: tftp_root,
    };

    // [http], [api]
    let http_listen = http
        .listen
        .as_deref()
        .and_then(|s| socket_addr(&mut r, s, "http.listen"));
    let api_listen = match api.listen.as_deref() {
        Some(s) => socket_addr(&mut r, s, "api.listen"),
        None => Some(SocketAddr::from(([127, 0, 0, 1], 8443))),
    };
    if let (Some(h), Some(a)) = (http_listen, api_listen)
        && h == a
    {
        r.err(
            "api.listen",
            format!("{a} is also http.listen; the API and plain HTTP need different ports"),
        );
    }

    // Names of images that exist in the file, valid or not: a machine that refers to a broken image gets no second
    // error for it.
    let image_names: Vec<String> = images.iter().flatten().map(|i| i.name.clone()).collect();
    let subnets_broken = subnets.iter().any(Option::is_none)
        || r.errors.iter().any(|e| e.path.starts_with("dhcp.subnet"));
    let images = check_images(&mut r, &images, &data_dir);
    let known = Known {
        images: &images,
        image_names: &image_names,
        subnets_broken,
    };
    let machines = check_machines(&mut r, &machines, &known, &dhcp, &interfaces);

    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    let config = Config {
        server: ServerConfig {
            data_dir,
            shutdown_timeout,
        },
        interfaces,
        dhcp,
        tftp,
        http: HttpConfig {
            listen: http_listen,
        },
        // Checked above: a bad api.listen is an error, so it is Some here.
        api: ApiConfig {
            listen: api_listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443))),
        },
        images,
        machines,
    };
    Ok(Loaded {
        config,
        warnings: r.warnings,
    })
}

fn socket_addr(r: &mut Report, s: &str, path: &str) -> Option<SocketAddr> {
    match s.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            r.err(
                path,
                format!("{s:?} is not an address:port (like 10.99.0.1:8080)"),
            );
            None
        }
    }
}

fn check_interfaces(
    r: &mut Report,
    ifaces: &[Option<raw::Interface>],
    host: &dyn HostNetwork,
) -> Vec<InterfaceConfig> {
    let mut out: Vec<InterfaceConfig> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, iface) in ifaces.iter().enumerate() {
        let Some(iface) = iface else { continue };
        let path = format!("interface[{i}]");
        if let Some(first) = seen.insert(iface.name.as_str(), i) {
            r.err(
                format!("{path}.name"),
                format!("{:?} is already listed as interface[{first}]", iface.name),
            );
            continue;
        }
        let Some(on_host) = host.interface(&iface.name) else {
            r.err(
                format!("{path}.name"),
                format!("no interface {:?} on this host", iface.name),
            );
            continue;
        };
        let (address, source) = match &iface.address {
            Some(a) => match a.parse::<Ipv4Net>() {
                Ok(net) if net.prefix_len() == 32 || net.addr() != net.network() => {
                    if !on_host.ipv4.contains(&net) {
                        r.warn(
                            format!("{path}.address"),
                            format!(
                                "{net} is not (yet) configured on {} (the OS has {:?})",
                                iface.name, on_host.ipv4
                            ),
                        );
                    }
                    (net, AddressSource::Config)
                }
                Ok(net) => {
                    r.err(
                        format!("{path}.address"),
                        format!("{net} is a network address, not the interface's own"),
                    );
                    continue;
                }
                Err(_) => {
                    r.err(
                        format!("{path}.address"),
                        format!("{a:?} is not an address with prefix (like 10.99.0.1/24)"),
                    );
                    continue;
                }
            },
            None => match on_host.ipv4.first() {
                Some(net) => (*net, AddressSource::Os),
                None => {
                    r.err(
                        format!("{path}.name"),
                        format!(
                            "{:?} has no IPv4 address; configure one or set {path}.address",
                            iface.name
                        ),
                    );
                    continue;
                }
            },
        };
        out.push(InterfaceConfig {
            name: iface.name.clone(),
            address,
            address_source: source,
        });
    }
    out
}

/// Parses a pool: `a-b` (inclusive) or a CIDR block.
fn parse_pool(s: &str) -> Option<Ipv4Range> {
    if let Some((a, b)) = s.split_once('-') {
        let start: Ipv4Addr = a.trim().parse().ok()?;
        let end: Ipv4Addr = b.trim().parse().ok()?;
        return Some(Ipv4Range { start, end });
    }
    let net: Ipv4Net = s.trim().parse().ok()?;
    Some(Ipv4Range {
        start: net.network(),
        end: net.broadcast(),
    })
}

fn check_dhcp(
    r: &mut Report,
    present: bool,
    dhcp: &raw::Dhcp,
    subnets: &[Option<raw::Subnet>],
    interfaces: &[InterfaceConfig],
) -> DhcpConfig {
    let enabled = dhcp.enabled.unwrap_or(present);
    let socket = match dhcp.socket.as_deref() {
        None | Some("raw") => DhcpSocket::Raw,
        Some("udp") => DhcpSocket::Udp,
        Some(other) => {
            r.err(
                "dhcp.socket",
                format!("{other:?} is not a socket type; expected \"raw\" or \"udp\""),
            );
            DhcpSocket::Raw
        }
    };
    let lease_time = r.duration(
        dhcp.lease_time.as_deref(),
        Duration::from_secs(3600),
        "dhcp.lease_time",
    );
    let decline_time = r.duration(
        dhcp.decline_time.as_deref(),
        Duration::from_secs(600),
        "dhcp.decline_time",
    );
    if enabled
        && interfaces.is_empty()
        && !r.errors.iter().any(|e| e.path.starts_with("interface["))
    {
        r.err(
            "dhcp.enabled",
            "DHCP is enabled but no [[interface]] is listed; labboot serves DHCP only on interfaces named in the config",
        );
    }
    if enabled && subnets.is_empty() {
        r.err(
            "dhcp.subnet",
            "DHCP is enabled but no [[dhcp.subnet]] is declared",
        );
    }

    let mut out: Vec<SubnetConfig> = Vec::new();
    // Every pool seen so far, with its path, to report overlaps across subnets too.
    let mut all_pools: Vec<(Ipv4Range, String)> = Vec::new();
    let mut nets: Vec<(Ipv4Net, String)> = Vec::new();
    for (i, sn) in subnets.iter().enumerate() {
        let Some(sn) = sn else { continue };
        let path = format!("dhcp.subnet[{i}]");
        let cidr = match sn.cidr.trim().parse::<Ipv4Net>() {
            Ok(net) if net.addr() != net.network() => {
                r.err(
                    format!("{path}.cidr"),
                    format!(
                        "{net} has host bits set; did you mean {}/{}?",
                        net.network(),
                        net.prefix_len()
                    ),
                );
                continue;
            }
            Ok(net) => net,
            Err(_) => {
                r.err(
                    format!("{path}.cidr"),
                    format!("{:?} is not a CIDR block (like 10.99.0.0/24)", sn.cidr),
                );
                continue;
            }
        };
        if let Some((_, other)) = nets
            .iter()
            .find(|(n, _)| n.contains(&cidr) || cidr.contains(n))
        {
            r.err(
                format!("{path}.cidr"),
                format!("{cidr} overlaps {other}.cidr"),
            );
        }
        nets.push((cidr, path.clone()));
        let mut pools = Vec::new();
        for (j, p) in sn.pools.iter().enumerate() {
            let ppath = format!("{path}.pools[{j}]");
            let Some(range) = parse_pool(p) else {
                r.err(
                    &ppath,
                    format!("{p:?} is not a pool (like 10.99.0.100-10.99.0.200)"),
                );
                continue;
            };
            if range.start > range.end {
                r.err(&ppath, format!("{range} starts after it ends"));
                continue;
            }
            if !cidr.contains(&range.start) || !cidr.contains(&range.end) {
                r.err(&ppath, format!("{range} is not inside {cidr}"));
                continue;
            }
            if cidr.prefix_len() <= 30
                && (range.contains(cidr.network()) || range.contains(cidr.broadcast()))
            {
                r.err(
                    &ppath,
                    format!("{range} includes the network or broadcast address of {cidr}"),
                );
                continue;
            }
            if let Some(iface) = interfaces.iter().find(|i| range.contains(i.address.addr())) {
                r.err(
                    &ppath,
                    format!(
                        "{range} includes {}, the address of interface {}",
                        iface.address.addr(),
                        iface.name
                    ),
                );
                continue;
            }
            if let Some((other, opath)) = all_pools.iter().find(|(o, _)| o.overlaps(&range)) {
                r.err(&ppath, format!("{range} overlaps {opath} ({other})"));
                continue;
            }
            all_pools.push((range, ppath));
            pools.push(range);
        }
        let mut routers = Vec::new();
        for (j, s) in sn.routers.iter().enumerate() {
            let rpath = format!("{path}.routers[{j}]");
            if let Some(ip) = r.ipv4(s, &rpath) {
                if !cidr.contains(&ip) {
                    r.err(
                        rpath,
                        format!("{ip} is not inside {cidr}; clients could not reach it"),
                    );
                } else {
                    routers.push(ip);
                }
            }
        }
        let dns = sn
            .dns
            .iter()
            .enumerate()
            .filter_map(|(j, s)| r.ipv4(s, &format!("{path}.dns[{j}]")))
            .collect();
        if let Some(d) = &sn.domain
            && !valid_domain(d)
        {
            r.err(
                format!("{path}.domain"),
                format!("{d:?} is not a domain name"),
            );
        }
        let lease_time = r.duration(
            sn.lease_time.as_deref(),
            lease_time,
            &format!("{path}.lease_time"),
        );
        let interface = interfaces
            .iter()
            .find(|i| cidr.contains(&i.address.addr()))
            .map(|i| i.name.clone());
        if interface.is_none() {
            r.warn(
                format!("{path}.cidr"),
                format!("no listed interface has an address in {cidr}: it is served only through relay agents"),
            );
        }
        out.push(SubnetConfig {
            cidr,
            pools,
            routers,
            dns,
            domain: sn.domain.clone(),
            lease_time,
            interface,
        });
    }
    DhcpConfig {
        enabled,
        socket,
        lease_time,
        decline_time,
        subnets: out,
    }
}

fn valid_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn valid_domain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(valid_label)
}

/// A path from the config, relative to `base` unless absolute; `..` is refused so nothing escapes the data dir.
fn data_path(r: &mut Report, p: &Path, base: &Path, path: &str) -> Option<PathBuf> {
    if p.as_os_str().is_empty() {
        r.err(path, "must not be empty");
        return None;
    }
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        r.err(path, format!("{} must not contain '..'", p.display()));
        return None;
    }
    Some(if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    })
}

fn check_images(
    r: &mut Report,
    images: &[Option<raw::Image>],
    data_dir: &Path,
) -> Vec<ImageConfig> {
    let mut out: Vec<ImageConfig> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, img) in images.iter().enumerate() {
        let Some(img) = img else { continue };
        let path = format!("image[{i}]");
        let name_ok = !img.name.is_empty()
            && img.name.len() <= 64
            && img
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !name_ok {
            r.err(
                format!("{path}.name"),
                format!(
                    "{:?} is not a name (letters, digits, '.', '_', '-'; at most 64)",
                    img.name
                ),
            );
            continue;
        }
        if let Some(first) = seen.insert(img.name.clone(), i) {
            r.err(
                format!("{path}.name"),
                format!("image {:?} is already declared as image[{first}]", img.name),
            );
            continue;
        }
        let arch = Arch::parse(&img.arch);
        if arch.is_none() {
            r.err(
                format!("{path}.arch"),
                format!(
                    "{:?} is not an architecture; expected x86_64 or arm64",
                    img.arch
                ),
            );
        }
        let kernel = data_path(r, &img.kernel, data_dir, &format!("{path}.kernel"));
        let initrd = match &img.initrd {
            Some(p) => data_path(r, p, data_dir, &format!("{path}.initrd")).map(Some),
            None => Some(None),
        };
        if img.cmdline.contains(['\n', '\r', '\0']) {
            r.err(format!("{path}.cmdline"), "must be one line");
            continue;
        }
        let (Some(arch), Some(kernel), Some(initrd)) = (arch, kernel, initrd) else {
            continue;
        };
        for (key, file) in [("kernel", Some(&kernel)), ("initrd", initrd.as_ref())] {
            if let Some(f) = file
                && !f.is_file()
            {
                r.warn(
                    format!("{path}.{key}"),
                    format!("{} does not exist (yet)", f.display()),
                );
            }
        }
        out.push(ImageConfig {
            name: img.name.clone(),
            arch,
            kernel,
            initrd,
            cmdline: img.cmdline.clone(),
            description: img.description.clone(),
        });
    }
    out
}

/// What machines may refer to.
struct Known<'a> {
    images: &'a [ImageConfig],
    /// Every image name in the file, including images that failed validation.
    image_names: &'a [String],
    /// Some subnet failed validation, so "not inside any subnet" may be a consequence, not a cause.
    subnets_broken: bool,
}

fn check_machines(
    r: &mut Report,
    machines: &[Option<raw::Machine>],
    known: &Known<'_>,
    dhcp: &DhcpConfig,
    interfaces: &[InterfaceConfig],
) -> Vec<MachineConfig> {
    let mut out = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut macs: HashMap<MacAddr, String> = HashMap::new();
    let mut ips: HashMap<Ipv4Addr, String> = HashMap::new();
    for (i, m) in machines.iter().enumerate() {
        let Some(m) = m else { continue };
        let path = format!("machine[{i}]");
        let errors_before = r.errors.len();
        if !valid_label(&m.name) {
            r.err(
                format!("{path}.name"),
                format!(
                    "{:?} is not a host name (letters, digits and '-', at most 63, no leading '-')",
                    m.name
                ),
            );
        } else if let Some(first) = names.insert(m.name.to_ascii_lowercase(), i) {
            r.err(
                format!("{path}.name"),
                format!(
                    "machine {:?} is already declared as machine[{first}]",
                    m.name
                ),
            );
        }
        let arch = Arch::parse(&m.arch);
        if arch.is_none() {
            r.err(
                format!("{path}.arch"),
                format!(
                    "{:?} is not an architecture; expected x86_64 or arm64",
                    m.arch
                ),
            );
        }
        let firmware = match m.firmware.as_deref() {
            None | Some("uefi") => Firmware::Uefi,
            Some("bios") => Firmware::Bios,
            Some(other) => {
                r.err(
                    format!("{path}.firmware"),
                    format!("{other:?} is not a firmware; expected uefi or bios"),
                );
                Firmware::Uefi
            }
        };
        if arch == Some(Arch::Arm64) && firmware == Firmware::Bios {
            r.err(
                format!("{path}.firmware"),
                "arm64 machines boot with uefi, not bios",
            );
        }
        if let Some(name) = &m.image {
            match known.images.iter().find(|img| &img.name == name) {
                None if known.image_names.contains(name) => {}
                None => r.err(
                    format!("{path}.image"),
                    format!("image {name:?} is not declared in any [[image]]"),
                ),
                Some(img) if arch.is_some_and(|a| a != img.arch) => r.err(
                    format!("{path}.image"),
                    format!(
                        "image {name:?} is for {}, the machine is {}",
                        img.arch, m.arch
                    ),
                ),
                Some(_) => {}
            }
        } else if m.netboot {
            r.err(
                format!("{path}.netboot"),
                "netboot is on but the machine has no image",
            );
        }
        let mut ifaces = Vec::new();
        for (j, iface) in m.interfaces.iter().enumerate() {
            let ipath = format!("{path}.interfaces[{j}]");
            let mac = match iface.mac.parse::<MacAddr>() {
                Ok(mac) if mac.is_multicast() || mac.0 == [0; 6] => {
                    r.err(
                        format!("{ipath}.mac"),
                        format!("{mac} is a multicast or zero address, not a NIC's"),
                    );
                    continue;
                }
                Ok(mac) => mac,
                Err(e) => {
                    r.err(format!("{ipath}.mac"), e.to_string());
                    continue;
                }
            };
            if let Some(first) = macs.get(&mac) {
                r.err(
                    format!("{ipath}.mac"),
                    format!("{mac} is already used by {first}"),
                );
                continue;
            }
            macs.insert(mac, format!("{ipath} ({})", m.name));
            let ip = match &iface.ip {
                None => None,
                Some(s) => {
                    let Some(ip) = r.ipv4(s, &format!("{ipath}.ip")) else {
                        continue;
                    };
                    if !check_reservation(
                        r,
                        ip,
                        &format!("{ipath}.ip"),
                        dhcp,
                        interfaces,
                        known.subnets_broken,
                    ) {
                        continue;
                    }
                    if let Some(first) = ips.get(&ip) {
                        r.err(
                            format!("{ipath}.ip"),
                            format!("{ip} is already reserved for {first}"),
                        );
                        continue;
                    }
                    ips.insert(ip, format!("{ipath} ({})", m.name));
                    Some(ip)
                }
            };
            ifaces.push(MachineInterfaceConfig { mac, ip });
        }
        if m.interfaces.is_empty() {
            r.warn(
                format!("{path}.interfaces"),
                "no interfaces: the machine cannot be netbooted",
            );
        }
        let bmc = m
            .bmc
            .as_ref()
            .and_then(|b| check_bmc(r, b, &format!("{path}.bmc")));
        if r.errors.len() > errors_before {
            continue;
        }
        let (Some(arch), true) = (arch, valid_label(&m.name)) else {
            continue;
        };
        out.push(MachineConfig {
            name: m.name.clone(),
            arch,
            firmware,
            image: m.image.clone(),
            netboot: m.netboot,
            interfaces: ifaces,
            bmc,
            description: m.description.clone(),
        });
    }
    out
}

/// A static reservation must sit in a declared subnet, on a usable host address that is not labboot's own.
fn check_reservation(
    r: &mut Report,
    ip: Ipv4Addr,
    path: &str,
    dhcp: &DhcpConfig,
    interfaces: &[InterfaceConfig],
    subnets_broken: bool,
) -> bool {
    let Some(sn) = dhcp.subnets.iter().find(|s| s.cidr.contains(&ip)) else {
        if !subnets_broken {
            r.err(path, format!("{ip} is not inside any dhcp.subnet"));
        }
        return false;
    };
    if sn.cidr.prefix_len() <= 30 && (ip == sn.cidr.network() || ip == sn.cidr.broadcast()) {
        r.err(
            path,
            format!("{ip} is the network or broadcast address of {}", sn.cidr),
        );
        return false;
    }
    if let Some(iface) = interfaces.iter().find(|i| i.address.addr() == ip) {
        r.err(
            path,
            format!("{ip} is the address of labboot's interface {}", iface.name),
        );
        return false;
    }
    if sn.routers.contains(&ip) {
        r.err(path, format!("{ip} is a router of {}", sn.cidr));
        return false;
    }
    true
}

fn check_bmc(r: &mut Report, b: &raw::Bmc, path: &str) -> Option<BmcConfig> {
    let mut ok = true;
    if b.host.trim().is_empty() || b.host.contains(char::is_whitespace) {
        r.err(
            format!("{path}.host"),
            format!("{:?} is not a host name or address", b.host),
        );
        ok = false;
    }
    let port = b.port.unwrap_or(623);
    if port == 0 {
        r.err(format!("{path}.port"), "must not be 0");
        ok = false;
    }
    // IPMI v2.0 user names are at most 16 bytes (Set User Name, 22.28).
    if b.user.is_empty() || b.user.len() > 16 {
        r.err(
            format!("{path}.user"),
            format!("{:?}: an IPMI user name has 1 to 16 bytes", b.user),
        );
        ok = false;
    }
    match &b.password_file {
        None => r.warn(
            format!("{path}.password_file"),
            "not set: the daemon cannot log in to this BMC (the CLI can use LABBOOT_BMC_PASSWORD)",
        ),
        Some(f) if !f.is_absolute() => {
            r.err(
                format!("{path}.password_file"),
                format!("{} must be an absolute path", f.display()),
            );
            ok = false;
        }
        Some(f) if !f.is_file() => r.warn(
            format!("{path}.password_file"),
            format!("{} does not exist (yet)", f.display()),
        ),
        Some(_) => {}
    }
    ok.then(|| BmcConfig {
        host: b.host.clone(),
        port,
        user: b.user.clone(),
        password_file: b.password_file.clone(),
    })
}
