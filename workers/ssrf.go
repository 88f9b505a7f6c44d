package workers

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Dialer timeouts. A partner host that cannot complete a TCP handshake in
// 10 seconds is treated as down for this poll, because waiting longer only
// blocks a worker.
const (
	dialTimeout   = 10 * time.Second
	dialKeepAlive = 30 * time.Second
)

// errMetadataAddress is wrapped, with ErrPrivateAddress, when a dial
// would reach one of metadataAddresses, which no setting allows.
var errMetadataAddress = errors.New("cloud metadata address")

// privateNetworkHint is a fetch error that wraps ErrPrivateAddress for a
// feed that does not set allow_private_network, and names that setting.
type privateNetworkHint struct{ err error }

func (e privateNetworkHint) Error() string {
	return e.err.Error() + "; if the feed's server is trusted, set allow_private_network: true on the feed"
}

func (e privateNetworkHint) Unwrap() error { return e.err }

// withPrivateNetworkHint returns err with the hint of privateNetworkHint
// when the guard rejected a private address of feed f, which the feed's
// allow_private_network would let through. A metadata address, or a
// feed that sets the allow already (and was rejected on a redirect to
// another host), gets err unchanged.
func withPrivateNetworkHint(f Feed, err error) error {
	if f.AllowPrivateNetwork || !errors.Is(err, ErrPrivateAddress) || errors.Is(err, errMetadataAddress) {
		return err
	}
	return privateNetworkHint{err: err}
}

// metadataAddresses are the cloud instance metadata endpoints: the common
// 169.254.169.254, the IPv6 endpoint of AWS, the AWS ECS task credentials
// endpoint 169.254.170.2 and Alibaba Cloud's 100.100.100.200. They serve
// credentials, so they stay rejected even when private networks are
// allowed.
var metadataAddresses = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("169.254.170.2"),
	netip.MustParseAddr("100.100.100.200"),
}

// internalPrefixes are the ranges a feed URL must not reach unless private
// networks are allowed. Loopback, link-local, multicast and unspecified
// addresses are checked with the netip methods instead.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network" (RFC 1122)
	netip.MustParsePrefix("10.0.0.0/8"),     // private (RFC 1918)
	netip.MustParsePrefix("100.64.0.0/10"),  // shared address space, CGNAT (RFC 6598)
	netip.MustParsePrefix("172.16.0.0/12"),  // private (RFC 1918)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.168.0.0/16"), // private (RFC 1918)
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking (RFC 2544)
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, includes broadcast (RFC 1112)
	netip.MustParsePrefix("fc00::/7"),       // unique local (RFC 4193)
	netip.MustParsePrefix("100::/64"),       // discard-only (RFC 6666)
	netip.MustParsePrefix("2001:db8::/32"),  // documentation (RFC 3849)
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local (RFC 3879)
}

// Prefixes of IPv6 ranges that embed an IPv4 address, which is checked in
// turn so that a NAT64 or 6to4 address cannot wrap 127.0.0.1 or 10.0.0.1.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052
	sixToFour   = netip.MustParsePrefix("2002::/16")    // RFC 3056
)

// NewGuardedDialer returns a dialer whose Control hook checks the IP address
// of every connection attempt, after DNS resolution, and rejects it with an
// error wrapping ErrPrivateAddress when CheckAddress forbids it. Checking
// the dialled address rather than the URL host defeats DNS names that
// resolve to internal addresses and DNS rebinding between check and use.
//
// Use the dialer directly (DialContext), never behind a proxy: with a proxy
// only the proxy's address would be checked.
func NewGuardedDialer(allowPrivate bool) *net.Dialer {
	return &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: dialKeepAlive,
		Control: func(network, address string, _ syscall.RawConn) error {
			return checkDialAddress(address, allowPrivate)
		},
	}
}

// checkDialAddress parses the "ip:port" address that net.Dialer passes to
// Control and applies CheckAddress to the IP.
func checkDialAddress(address string, allowPrivate bool) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("checking dial address %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("checking dial address %q: %w", address, err)
	}
	return CheckAddress(ip, allowPrivate)
}

// CheckAddress returns an error wrapping ErrPrivateAddress when ip is not a
// public unicast address. With allowPrivate, only the metadata addresses
// are rejected.
func CheckAddress(ip netip.Addr, allowPrivate bool) error {
	ip = ip.WithZone("").Unmap()
	if isMetadataAddress(ip) {
		return fmt.Errorf("%w: %s is a %w", ErrPrivateAddress, ip, errMetadataAddress)
	}
	if allowPrivate {
		return nil
	}
	if kind := internalKind(ip); kind != "" {
		return fmt.Errorf("%w: %s is %s", ErrPrivateAddress, ip, kind)
	}
	return nil
}

func isMetadataAddress(ip netip.Addr) bool {
	for _, m := range metadataAddresses {
		if ip == m {
			return true
		}
	}
	return false
}

// internalKind names the non-public class of ip, or returns "" for a
// public unicast address.
func internalKind(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	}
	for _, p := range internalPrefixes {
		if p.Contains(ip) {
			return "private or reserved"
		}
	}
	if inner, ok := embeddedIPv4(ip); ok {
		if kind := internalKind(inner); kind != "" {
			return kind + " (embedded in " + ip.String() + ")"
		}
	}
	return ""
}

// embeddedIPv4 extracts the IPv4 address carried by a NAT64 (last 32 bits)
// or 6to4 (bits 16 to 47) IPv6 address.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}
