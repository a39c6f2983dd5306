package doh

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIsResolverName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"cloudflare-dns.com", true},
		{"mozilla.cloudflare-dns.com", true}, // Firefox's endpoint (corpus no_sni.pcap)
		{"security.cloudflare-dns.com", true},
		{"Cloudflare-DNS.com.", true}, // case and a trailing dot ignored
		{"one.one.one.one", true},
		{"dns.google", true},
		{"dns64.dns.google", true},
		{"dns.google.com", true},
		{"dns.quad9.net", true},
		{"dns11.quad9.net", true},
		{"doh.opendns.com", true},
		{"dns.adguard.com", true},
		{"dns.nextdns.io", true},
		{"firefox.dns.nextdns.io", true},
		{"doh.cleanbrowsing.org", true},
		// Not below a listed name: a label must end where the listed name starts.
		{"notcloudflare-dns.com", false},
		{"cloudflare-dns.com.example", false},
		{"google.com", false},
		{"www.google.com", false},
		{"quad9.net", false},
		{"opendns.com", false},
		{"951c558a.is-doh.help.every1dns.net", false}, // Cloudflare's DoH test page, not a resolver
		{"", false},
		{".", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsResolverName(tc.name); got != tc.want {
				t.Errorf("IsResolverName(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestIsResolverAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"1.1.1.1", true},
		{"1.0.0.1", true},
		{"8.8.8.8", true},
		{"8.8.4.4", true},
		{"9.9.9.9", true},
		{"149.112.112.112", true},
		{"208.67.222.222", true},
		{"94.140.14.14", true},
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
		{"2620:fe::fe", true},
		{"::ffff:1.1.1.1", true}, // IPv4-mapped
		{"1.1.1.4", false},
		{"104.16.249.249", false}, // cloudflare-dns.com's CDN address also serves other sites
		{"192.0.2.1", false},
		{"2606:4700:4700::1", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := IsResolverAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Errorf("IsResolverAddr(%s) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}

// TestNames checks the list: lowercase host names without duplicates, and
// JoyfulJay's own DoH names all present.
func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Names() {
		if n != strings.ToLower(n) || strings.HasSuffix(n, ".") || !strings.Contains(n, ".") {
			t.Errorf("name %q is not a lowercase host name", n)
		}
		if seen[n] {
			t.Errorf("name %q listed twice", n)
		}
		seen[n] = true
	}
	for _, n := range []string{"cloudflare-dns.com", "dns.google", "dns.google.com", "doh.opendns.com", "dns.quad9.net",
		"doh.cleanbrowsing.org", "dns.adguard.com", "doh.dns.sb", "dns.nextdns.io"} {
		if !seen[n] {
			t.Errorf("JoyfulJay's DoH name %q is missing", n)
		}
	}
}
