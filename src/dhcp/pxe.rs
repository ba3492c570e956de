//! Which boot client is asking, and what it should boot.
//!
//! Pure: takes the raw bytes of options 60 (vendor class), 93 (client system architecture, RFC 4578) and 77 (user
//! class, RFC 3004) and returns a [`BootClient`]; [`choose`] turns that into a [`BootChoice`]: a TFTP file name or an
//! HTTP URL, the vendor class to echo (`PXEClient` or `HTTPClient`), and the reason, for the log.
//!
//! Firmware observed on the testbed: OVMF sends `PXEClient:Arch:00007:UNDI:003000` with option 93 = 7; iPXE EFI
//! `PXEClient:Arch:00007:UNDI:003010` with user class `iPXE`; iPXE BIOS `PXEClient:Arch:00000:UNDI:002001`.

use std::fmt;
use std::net::Ipv4Addr;

use crate::types::MacAddr;

/// The processor/firmware family of a boot client (RFC 4578 2.1 and the IANA "Processor Architecture Types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientArch {
    /// 0: x86 BIOS (also 20, pc/AT BIOS over HTTP).
    BiosX86,
    /// 6: x86 (32-bit) UEFI; 15 over HTTP.
    EfiIa32,
    /// 7 and 9 (EBC, which x64 firmware sends too): x64 UEFI; 16 over HTTP.
    EfiX64,
    /// 10: 32-bit ARM UEFI; 18 over HTTP.
    EfiArm32,
    /// 11: 64-bit ARM UEFI; 19 over HTTP.
    EfiArm64,
    /// Anything else, kept for the log.
    Other(u16),
}

impl ClientArch {
    /// The architecture of an option-93 code, and whether the code is an HTTP-boot one.
    pub fn from_code(code: u16) -> (ClientArch, bool) {
        match code {
            0 => (ClientArch::BiosX86, false),
            6 => (ClientArch::EfiIa32, false),
            7 | 9 => (ClientArch::EfiX64, false),
            10 => (ClientArch::EfiArm32, false),
            11 => (ClientArch::EfiArm64, false),
            15 => (ClientArch::EfiIa32, true),
            16 | 17 => (ClientArch::EfiX64, true),
            18 => (ClientArch::EfiArm32, true),
            19 => (ClientArch::EfiArm64, true),
            20 => (ClientArch::BiosX86, true),
            other => (ClientArch::Other(other), false),
        }
    }
}

impl fmt::Display for ClientArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientArch::BiosX86 => f.write_str("x86 BIOS"),
            ClientArch::EfiIa32 => f.write_str("ia32 UEFI"),
            ClientArch::EfiX64 => f.write_str("x64 UEFI"),
            ClientArch::EfiArm32 => f.write_str("arm32 UEFI"),
            ClientArch::EfiArm64 => f.write_str("arm64 UEFI"),
            ClientArch::Other(c) => write!(f, "architecture {c}"),
        }
    }
}

/// A client that wants to boot from the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootClient {
    pub arch: ClientArch,
    /// The option-93 code (or the one parsed from the vendor class), as sent.
    pub arch_code: u16,
    /// UEFI HTTP boot: vendor class `HTTPClient` or an HTTP architecture code. Wants a URL.
    pub http: bool,
    /// iPXE (user class `iPXE`): it has already loaded; give it a script, not a bootloader again.
    pub ipxe: bool,
}

/// True if `user_class` (option 77) names iPXE: either the raw string iPXE sends, or an RFC 3004 list of
/// length-prefixed strings containing it.
fn is_ipxe(user_class: &[u8]) -> bool {
    if user_class == b"iPXE" {
        return true;
    }
    let mut rest = user_class;
    while let Some((&len, tail)) = rest.split_first() {
        let Some(item) = tail.get(..len as usize) else {
            return false;
        };
        if item == b"iPXE" {
            return true;
        }
        rest = &tail[len as usize..];
    }
    false
}

/// The `Arch:NNNNN` field of a PXE vendor class (`PXEClient:Arch:00007:UNDI:003000`).
fn arch_from_vendor_class(vc: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(vc).ok()?;
    let mut fields = text.split(':');
    while let Some(f) = fields.next() {
        if f == "Arch" {
            return fields.next()?.parse().ok();
        }
    }
    None
}

/// Recognises a boot client. `arch_codes` is option 93 (a client may list several; the first is its own).
/// Returns `None` for an ordinary DHCP client (no PXE/HTTP vendor class and no option 93).
pub fn classify(
    vendor_class: Option<&[u8]>,
    arch_codes: &[u16],
    user_class: Option<&[u8]>,
) -> Option<BootClient> {
    let pxe_vc = vendor_class.is_some_and(|v| v.starts_with(b"PXEClient"));
    let http_vc = vendor_class.is_some_and(|v| v.starts_with(b"HTTPClient"));
    if !pxe_vc && !http_vc && arch_codes.is_empty() {
        return None;
    }
    // RFC 4578 requires option 93 of PXE clients; old ROMs without it are BIOS machines.
    let code = arch_codes
        .first()
        .copied()
        .or_else(|| vendor_class.and_then(arch_from_vendor_class))
        .unwrap_or(0);
    let (arch, http_code) = ClientArch::from_code(code);
    Some(BootClient {
        arch,
        arch_code: code,
        http: http_vc || http_code,
        ipxe: user_class.is_some_and(is_ipxe),
    })
}

/// Bootloader file names by architecture, relative to the TFTP root (and the HTTP root). The defaults are where
/// `boot-assets/build.sh` puts the GRUB netboot images (`grub-mknetdir` layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootTable {
    pub bios: String,
    pub efi_ia32: String,
    pub efi_x64: String,
    pub efi_arm32: String,
    pub efi_arm64: String,
}

impl Default for BootTable {
    fn default() -> BootTable {
        BootTable {
            bios: "grub/i386-pc/core.0".into(),
            efi_ia32: "grub/i386-efi/core.efi".into(),
            efi_x64: "grub/x86_64-efi/core.efi".into(),
            efi_arm32: "grub/arm-efi/core.efi".into(),
            efi_arm64: "grub/arm64-efi/core.efi".into(),
        }
    }
}

impl BootTable {
    /// The bootloader for `arch`, if there is one.
    pub fn file(&self, arch: ClientArch) -> Option<&str> {
        match arch {
            ClientArch::BiosX86 => Some(&self.bios),
            ClientArch::EfiIa32 => Some(&self.efi_ia32),
            ClientArch::EfiX64 => Some(&self.efi_x64),
            ClientArch::EfiArm32 => Some(&self.efi_arm32),
            ClientArch::EfiArm64 => Some(&self.efi_arm64),
            ClientArch::Other(_) => None,
        }
    }
}

/// Where the client fetches its next stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootFile {
    /// A file name on labboot's TFTP server (option 67 / `file`, with siaddr and option 66 naming the server).
    Tftp(String),
    /// A full URL (option 67), for UEFI HTTP boot and iPXE.
    Http(String),
}

impl BootFile {
    /// The text of option 67.
    pub fn as_str(&self) -> &str {
        match self {
            BootFile::Tftp(s) | BootFile::Http(s) => s,
        }
    }
}

/// The answer for a boot client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootChoice {
    pub file: BootFile,
    /// Option 60 to send back: firmware ignores offers without it (`HTTPClient` for HTTP boot, else `PXEClient`).
    pub vendor_class: &'static str,
    /// Why this file, for the info log and the machine's events.
    pub reason: String,
}

/// Why a boot client gets no bootfile (it still gets an address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoBootFile {
    #[error("no bootloader for {0}")]
    UnsupportedArch(ClientArch),
    #[error("{0} asks for HTTP boot but [http] listen is not configured")]
    HttpOff(ClientArch),
}

/// Where labboot serves, as a boot client on one interface sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootServer {
    /// labboot's address on the client's network (siaddr, option 66).
    pub ip: Ipv4Addr,
    /// The plain-HTTP port, when `[http]` is on.
    pub http_port: Option<u16>,
}

impl BootServer {
    fn url(&self, port: u16, path: &str) -> String {
        format!("http://{}:{port}/{}", self.ip, path.trim_start_matches('/'))
    }
}

/// The iPXE script of a MAC, served by the boot module (`ipxe/01-<mac>.ipxe`).
pub fn ipxe_script_path(mac: MacAddr) -> String {
    format!("ipxe/01-{}.ipxe", mac.dashed())
}

/// Chooses the next stage for `client`. `machine_bootfile` is a per-machine override: a TFTP path or a full
/// `http://` URL. Order: iPXE gets its script (never the bootloader again: that loops); then the machine's
/// override; then HTTP-boot clients get a URL; then the table by architecture over TFTP.
pub fn choose(
    client: &BootClient,
    mac: MacAddr,
    table: &BootTable,
    server: BootServer,
    machine_bootfile: Option<&str>,
) -> Result<BootChoice, NoBootFile> {
    let vendor_class = if client.http {
        "HTTPClient"
    } else {
        "PXEClient"
    };
    let arch = client.arch;
    let code = client.arch_code;
    if client.ipxe {
        let script = ipxe_script_path(mac);
        let (file, how) = match server.http_port {
            Some(port) => (BootFile::Http(server.url(port, &script)), "HTTP"),
            None => (BootFile::Tftp(script), "TFTP"),
        };
        return Ok(BootChoice {
            file,
            vendor_class,
            reason: format!(
                "iPXE on {arch} (arch {code}): its script over {how}, not the bootloader again"
            ),
        });
    }
    if let Some(custom) = machine_bootfile {
        let file = if custom.starts_with("http://") {
            BootFile::Http(custom.to_string())
        } else {
            BootFile::Tftp(custom.to_string())
        };
        return Ok(BootChoice {
            file,
            vendor_class,
            reason: format!("the machine's own bootfile ({arch}, arch {code})"),
        });
    }
    let path = table.file(arch).ok_or(NoBootFile::UnsupportedArch(arch))?;
    if client.http {
        let port = server.http_port.ok_or(NoBootFile::HttpOff(arch))?;
        return Ok(BootChoice {
            file: BootFile::Http(server.url(port, path)),
            vendor_class,
            reason: format!("{arch} HTTP boot (arch {code})"),
        });
    }
    Ok(BootChoice {
        file: BootFile::Tftp(path.to_string()),
        vendor_class,
        reason: format!("{arch} PXE (arch {code}) over TFTP"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// [`classify`] for inputs that must be recognised as a boot client.
    fn boot_client(
        vc: Option<&[u8]>,
        arch: &[u16],
        uc: Option<&[u8]>,
    ) -> Result<BootClient, &'static str> {
        classify(vc, arch, uc).ok_or("not recognised as a boot client")
    }

    const SERVER: BootServer = BootServer {
        ip: Ipv4Addr::new(10, 99, 0, 1),
        http_port: Some(8080),
    };

    fn boot(vc: &str, arch: &[u16], uc: Option<&[u8]>) -> BootChoice {
        let client = classify(Some(vc.as_bytes()), arch, uc).expect("a boot client");
        choose(&client, MAC, &BootTable::default(), SERVER, None).expect("a bootfile")
    }

    #[test]
    fn each_architecture_gets_its_bootloader() {
        let cases: &[(&str, u16, BootFile, &str)] = &[
            (
                "PXEClient:Arch:00000:UNDI:002001",
                0,
                BootFile::Tftp("grub/i386-pc/core.0".into()),
                "PXEClient",
            ),
            (
                "PXEClient:Arch:00006:UNDI:003000",
                6,
                BootFile::Tftp("grub/i386-efi/core.efi".into()),
                "PXEClient",
            ),
            (
                "PXEClient:Arch:00007:UNDI:003000",
                7,
                BootFile::Tftp("grub/x86_64-efi/core.efi".into()),
                "PXEClient",
            ),
            (
                "PXEClient:Arch:00009:UNDI:003000",
                9,
                BootFile::Tftp("grub/x86_64-efi/core.efi".into()),
                "PXEClient",
            ),
            (
                "PXEClient:Arch:00011:UNDI:003000",
                11,
                BootFile::Tftp("grub/arm64-efi/core.efi".into()),
                "PXEClient",
            ),
            (
                "HTTPClient:Arch:00016:UNDI:003000",
                16,
                BootFile::Http("http://10.99.0.1:8080/grub/x86_64-efi/core.efi".into()),
                "HTTPClient",
            ),
            (
                "HTTPClient:Arch:00019:UNDI:003000",
                19,
                BootFile::Http("http://10.99.0.1:8080/grub/arm64-efi/core.efi".into()),
                "HTTPClient",
            ),
        ];
        for (vc, arch, file, echo) in cases {
            let c = boot(vc, &[*arch], None);
            assert_eq!(&c.file, file, "arch {arch}");
            assert_eq!(c.vendor_class, *echo, "arch {arch}");
            assert!(c.reason.contains(&format!("arch {arch}")), "{}", c.reason);
        }
    }

    #[test]
    fn ipxe_gets_a_script_url_not_the_bootloader_again() -> TestResult {
        // As iPXE EFI sends it: raw "iPXE" in option 77.
        let c = boot("PXEClient:Arch:00007:UNDI:003010", &[7], Some(b"iPXE"));
        assert_eq!(
            c.file,
            BootFile::Http("http://10.99.0.1:8080/ipxe/01-52-54-00-12-34-56.ipxe".into())
        );
        // RFC 3004 form: a list of length-prefixed strings.
        let c = boot(
            "PXEClient:Arch:00000:UNDI:002001",
            &[0],
            Some(b"\x03foo\x04iPXE"),
        );
        assert!(matches!(c.file, BootFile::Http(ref u) if u.ends_with(".ipxe")));
        // Without HTTP, the script comes over TFTP.
        let client = boot_client(Some(b"PXEClient"), &[7], Some(b"iPXE"))?;
        let c = choose(
            &client,
            MAC,
            &BootTable::default(),
            BootServer {
                http_port: None,
                ..SERVER
            },
            None,
        )?;
        assert_eq!(
            c.file,
            BootFile::Tftp("ipxe/01-52-54-00-12-34-56.ipxe".into())
        );
        // Not iPXE: other user classes, and truncated lists.
        for uc in [&b"gPXE"[..], b"\x05iPXE", b"\x04iPX", b""] {
            assert!(
                !boot_client(Some(b"PXEClient"), &[7], Some(uc))?.ipxe,
                "{uc:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn recognition_of_clients() -> TestResult {
        // A plain DHCP client is not a boot client.
        assert_eq!(classify(Some(b"dhcpcd-9.4.1:Linux"), &[], None), None);
        assert_eq!(classify(None, &[], None), None);
        // Option 93 alone makes a boot client; the vendor class alone gives the arch from its Arch field.
        assert_eq!(boot_client(None, &[11], None)?.arch, ClientArch::EfiArm64);
        assert_eq!(
            boot_client(Some(b"PXEClient:Arch:00007:UNDI:003000"), &[], None)?.arch,
            ClientArch::EfiX64
        );
        // An old ROM with neither: BIOS.
        assert_eq!(
            boot_client(Some(b"PXEClient"), &[], None)?.arch,
            ClientArch::BiosX86
        );
        // Option 93 wins over the vendor class, and only the first code counts.
        assert_eq!(
            boot_client(Some(b"PXEClient:Arch:00000"), &[7, 0], None)?.arch,
            ClientArch::EfiX64
        );
        // Garbage in the vendor class never panics.
        assert_eq!(
            boot_client(Some(b"PXEClient:Arch:\xff\xff"), &[], None)?.arch_code,
            0
        );
        assert_eq!(
            boot_client(Some(b"PXEClient:Arch"), &[], None)?.arch_code,
            0
        );
        Ok(())
    }

    #[test]
    fn unsupported_architectures_and_http_without_http() -> TestResult {
        let c = boot_client(Some(b"PXEClient"), &[2], None)?;
        assert_eq!(
            choose(&c, MAC, &BootTable::default(), SERVER, None),
            Err(NoBootFile::UnsupportedArch(ClientArch::Other(2)))
        );
        let c = boot_client(Some(b"HTTPClient"), &[16], None)?;
        assert_eq!(
            choose(
                &c,
                MAC,
                &BootTable::default(),
                BootServer {
                    http_port: None,
                    ..SERVER
                },
                None
            ),
            Err(NoBootFile::HttpOff(ClientArch::EfiX64))
        );
        Ok(())
    }

    #[test]
    fn a_machine_override_wins_except_for_ipxe() -> TestResult {
        let c = boot_client(Some(b"PXEClient"), &[7], None)?;
        let got = choose(
            &c,
            MAC,
            &BootTable::default(),
            SERVER,
            Some("custom/shim.efi"),
        )?;
        assert_eq!(got.file, BootFile::Tftp("custom/shim.efi".into()));
        let got = choose(
            &c,
            MAC,
            &BootTable::default(),
            SERVER,
            Some("http://10.99.0.1:8080/x.efi"),
        )?;
        assert_eq!(
            got.file,
            BootFile::Http("http://10.99.0.1:8080/x.efi".into())
        );
        let ipxe = boot_client(Some(b"PXEClient"), &[7], Some(b"iPXE"))?;
        let got = choose(
            &ipxe,
            MAC,
            &BootTable::default(),
            SERVER,
            Some("custom/ipxe.efi"),
        )?;
        assert!(
            got.file.as_str().ends_with(".ipxe"),
            "iPXE must not be sent a bootloader again"
        );
        Ok(())
    }
}
