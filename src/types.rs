//! Small value types shared by every layer: MAC addresses, durations written as `"90s"`, IPv4 ranges.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// An Ethernet MAC address. Displays lowercase with colons (`52:54:00:12:34:56`), the form GRUB's
/// `${net_default_mac}` uses; [`MacAddr::dashed`] gives the pxelinux/mr-provisioner form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `52-54-00-12-34-56`, as used in `grub/01-<mac>` file names.
    pub fn dashed(&self) -> String {
        let b = self.0;
        format!(
            "{:02x}-{:02x}-{:02x}-{:02x}-{:02x}-{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }

    /// True for the group (multicast/broadcast) bit, which no NIC uses as its own address.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a MAC address (expected six hex pairs like 52:54:00:12:34:56)")]
pub struct MacParseError(pub String);

impl FromStr for MacAddr {
    type Err = MacParseError;

    /// Accepts `:` or `-` separators, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacParseError(s.to_string());
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = s.split(sep);
        for byte in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

/// Why a string is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a duration (expected a number and a unit: \"500ms\", \"90s\", \"10m\", \"1h\", \"7d\")"
)]
pub struct DurationParseError(pub String);

/// Parses `"500ms"`, `"90s"`, `"10m"`, `"1h"`, `"7d"` and sums like `"1h30m"`. A bare number is refused: a lease
/// time of `3600` could mean seconds or minutes, and a config that guesses is a config that surprises.
pub fn parse_duration(s: &str) -> Result<Duration, DurationParseError> {
    let err = || DurationParseError(s.to_string());
    let text = s.trim();
    if text.is_empty() {
        return Err(err());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        if digits == 0 {
            return Err(err());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| err())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_secs_ms: (u64, u64) = match &rest[..unit_len] {
            "ms" => (0, 1),
            "s" => (1, 0),
            "m" => (60, 0),
            "h" => (3600, 0),
            "d" => (86400, 0),
            _ => return Err(err()),
        };
        rest = &rest[unit_len..];
        let part = match unit_secs_ms {
            (0, ms) => Duration::from_millis(n.checked_mul(ms).ok_or_else(err)?),
            (secs, _) => Duration::from_secs(n.checked_mul(secs).ok_or_else(err)?),
        };
        total = total.checked_add(part).ok_or_else(err)?;
    }
    Ok(total)
}

/// Formats a duration the way [`parse_duration`] reads it, largest unit that divides it exactly.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    for (unit, len) in [("d", 86400), ("h", 3600), ("m", 60)] {
        if s >= len && s.is_multiple_of(len) {
            return format!("{}{unit}", s / len);
        }
    }
    format!("{s}s")
}

/// An inclusive range of IPv4 addresses, as in a DHCP pool `10.99.0.100-10.99.0.200`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ipv4Range {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
}

impl Ipv4Range {
    /// Number of addresses in the range.
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.end)) - u64::from(u32::from(self.start)) + 1
    }

    /// Never true: a range holds at least its start address.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.start <= ip && ip <= self.end
    }

    pub fn overlaps(&self, other: &Ipv4Range) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

impl fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn mac_parses_both_separators_and_displays_lowercase() -> TestResult {
        let m: MacAddr = "52:54:00:AB:cd:Ef".parse()?;
        assert_eq!(m.to_string(), "52:54:00:ab:cd:ef");
        assert_eq!(m.dashed(), "52-54-00-ab-cd-ef");
        assert_eq!("52-54-00-ab-cd-ef".parse::<MacAddr>()?, m);
        for bad in [
            "",
            "52:54:00:ab:cd",
            "52:54:00:ab:cd:ef:01",
            "5:54:00:ab:cd:ef",
            "zz:54:00:ab:cd:ef",
            "525400abcdef",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad} should not parse");
        }
        Ok(())
    }

    #[test]
    fn durations() -> TestResult {
        assert_eq!(parse_duration("90s")?, Duration::from_secs(90));
        assert_eq!(parse_duration("10m")?, Duration::from_secs(600));
        assert_eq!(parse_duration("1h")?, Duration::from_secs(3600));
        assert_eq!(parse_duration("7d")?, Duration::from_secs(7 * 86400));
        assert_eq!(parse_duration("1h30m")?, Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms")?, Duration::from_millis(250));
        for bad in [
            "",
            "3600",
            "1x",
            "h",
            "1 h",
            "-1s",
            "99999999999999999999d",
            "18446744073709551615d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
        }
        for d in ["90s", "10m", "1h", "7d", "250ms"] {
            assert_eq!(format_duration(parse_duration(d)?), d);
        }
        Ok(())
    }

    #[test]
    fn ranges() {
        let r = Ipv4Range {
            start: Ipv4Addr::new(10, 0, 0, 10),
            end: Ipv4Addr::new(10, 0, 0, 20),
        };
        assert_eq!(r.len(), 11);
        assert!(r.contains(Ipv4Addr::new(10, 0, 0, 20)));
        assert!(!r.contains(Ipv4Addr::new(10, 0, 0, 21)));
        let s = Ipv4Range {
            start: Ipv4Addr::new(10, 0, 0, 20),
            end: Ipv4Addr::new(10, 0, 0, 30),
        };
        assert!(r.overlaps(&s) && s.overlaps(&r));
    }
}
