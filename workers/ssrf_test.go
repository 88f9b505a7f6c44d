package workers

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		name         string
		ip           string
		blocked      bool // rejected when private networks are not allowed
		alwaysBlocks bool // rejected even when they are
	}{
		{"public ipv4", "93.184.216.34", false, false},
		{"public ipv6", "2606:2800:220:1:248:1893:25c8:1946", false, false},
		{"loopback", "127.0.0.1", true, false},
		{"loopback range", "127.8.9.10", true, false},
		{"ipv6 loopback", "::1", true, false},
		{"ipv4-mapped loopback", "::ffff:127.0.0.1", true, false},
		{"private 10/8", "10.1.2.3", true, false},
		{"private 172.16/12", "172.31.255.255", true, false},
		{"just outside 172.16/12", "172.32.0.1", false, false},
		{"private 192.168/16", "192.168.1.1", true, false},
		{"unique local", "fd12:3456::1", true, false},
		{"link-local ipv4", "169.254.10.20", true, false},
		{"link-local ipv6", "fe80::1", true, false},
		{"link-local ipv6 with zone", "fe80::1%eth0", true, false},
		{"cgnat", "100.64.0.1", true, false},
		{"cgnat upper end", "100.127.255.255", true, false},
		{"just outside cgnat", "100.128.0.1", false, false},
		{"unspecified ipv4", "0.0.0.0", true, false},
		{"unspecified ipv6", "::", true, false},
		{"this network", "0.1.2.3", true, false},
		{"multicast ipv4", "224.0.0.1", true, false},
		{"multicast ipv6", "ff02::1", true, false},
		{"broadcast", "255.255.255.255", true, false},
		{"reserved", "240.0.0.1", true, false},
		{"nat64 wrapping loopback", "64:ff9b::7f00:1", true, false},
		{"nat64 wrapping public", "64:ff9b::5db8:d822", false, false},
		{"6to4 wrapping private", "2002:a00:1::1", true, false},
		{"aws metadata", "169.254.169.254", true, true},
		{"ipv4-mapped metadata", "::ffff:169.254.169.254", true, true},
		{"aws ipv6 metadata", "fd00:ec2::254", true, true},
		{"ecs task credentials", "169.254.170.2", true, true},
		{"alibaba metadata", "100.100.100.200", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			err := CheckAddress(ip, false)
			if tc.blocked != (err != nil) {
				t.Errorf("CheckAddress(%s, false) = %v, want blocked %v", ip, err, tc.blocked)
			}
			if err != nil && !errors.Is(err, ErrPrivateAddress) {
				t.Errorf("CheckAddress(%s, false) = %v, want ErrPrivateAddress", ip, err)
			}
			err = CheckAddress(ip, true)
			if tc.alwaysBlocks != (err != nil) {
				t.Errorf("CheckAddress(%s, true) = %v, want blocked %v", ip, err, tc.alwaysBlocks)
			}
		})
	}
}

// TestGuardedDialerControl calls the Control hook with resolved addresses
// as net.Dialer would, without dialling them.
func TestGuardedDialerControl(t *testing.T) {
	tests := []struct {
		name    string
		network string
		address string
		allow   bool
		wantErr bool
	}{
		{"public ipv4 allowed", "tcp4", "93.184.216.34:443", false, false},
		{"private ipv4 rejected", "tcp4", "10.0.0.5:80", false, true},
		{"ipv6 loopback rejected", "tcp6", "[::1]:80", false, true},
		{"private allowed with override", "tcp4", "10.0.0.5:80", true, false},
		{"metadata rejected with override", "tcp4", "169.254.169.254:80", true, true},
		{"address without port rejected", "tcp4", "10.0.0.5", false, true},
		{"host name rejected", "tcp4", "feed.example.com:80", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewGuardedDialer(tc.allow)
			if d.Control == nil {
				t.Fatal("NewGuardedDialer returned a dialer without Control")
			}
			err := d.Control(tc.network, tc.address, nil)
			if tc.wantErr != (err != nil) {
				t.Errorf("Control(%q) = %v, want error %v", tc.address, err, tc.wantErr)
			}
		})
	}
}

func TestGuardedDialerRejectsLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })

	conn, err := NewGuardedDialer(false).DialContext(t.Context(), "tcp", ln.Addr().String())
	if err == nil {
		_ = conn.Close()
		t.Fatal("dial to 127.0.0.1 succeeded, want ErrPrivateAddress")
	}
	if !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("dial error = %v, want ErrPrivateAddress", err)
	}

	conn, err = NewGuardedDialer(true).DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with private networks allowed: %v", err)
	}
	_ = conn.Close()
}
