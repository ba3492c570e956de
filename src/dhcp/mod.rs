//! DHCPv4. Built so far: [`pxe`], which recognises PXE, HTTP-boot and iPXE clients from their options and chooses
//! the bootfile each should get. The sans-IO server core (RFC 2131 states, leases), the AF_PACKET/UDP driver and the
//! wiring into `app` arrive with the rest of the DHCP issue; until then `labboot serve` says it has no DHCP server.

pub mod pxe;
