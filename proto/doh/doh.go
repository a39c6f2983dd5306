// Package doh recognises the well-known public DNS-over-HTTPS resolvers by
// server name (the TLS or QUIC SNI a client sends) and by address.
//
// The list is the resolvers of the large public DNS operators as each
// documents its own DoH service (the same entries as curl's public list,
// https://github.com/curl/curl/wiki/DNS-over-HTTPS): Cloudflare
// (1.1.1.1, including its malware and family filters and Mozilla's
// Firefox endpoint), Google Public DNS, Quad9, OpenDNS (Cisco), AdGuard DNS,
// NextDNS, CleanBrowsing, DNS.SB and Mullvad. It holds JoyfulJay's own DoH
// name list (cloudflare-dns.com, dns.google, dns.google.com,
// doh.opendns.com, dns.quad9.net, doh.cleanbrowsing.org, dns.adguard.com,
// doh.dns.sb, dns.nextdns.io). Addresses are those the operators publish
// for their resolvers; shared CDN addresses that also serve other sites
// are left out.
package doh

import (
	"net/netip"
	"strings"
)

// names are resolver host names; a name also covers every name below it
// (mozilla.cloudflare-dns.com is under cloudflare-dns.com).
var names = []string{
	// Cloudflare: cloudflare-dns.com covers security., family., mozilla. and
	// 1dot1dot1dot1.cloudflare-dns.com.
	"cloudflare-dns.com",
	"one.one.one.one",
	"dns.cloudflare.com",
	// Google Public DNS (dns64.dns.google is under dns.google).
	"dns.google",
	"dns.google.com",
	// Quad9.
	"dns.quad9.net",
	"dns9.quad9.net",
	"dns10.quad9.net",
	"dns11.quad9.net",
	// OpenDNS.
	"doh.opendns.com",
	"doh.familyshield.opendns.com",
	// AdGuard DNS.
	"dns.adguard.com",
	"dns-family.adguard.com",
	"dns-unfiltered.adguard.com",
	"dns.adguard-dns.com",
	"family.adguard-dns.com",
	"unfiltered.adguard-dns.com",
	// NextDNS (firefox.dns.nextdns.io and anycast.dns.nextdns.io are under it).
	"dns.nextdns.io",
	// CleanBrowsing, DNS.SB, Mullvad.
	"doh.cleanbrowsing.org",
	"doh.dns.sb",
	"dns.mullvad.net",
	"doh.mullvad.net",
}

// addrs are resolver addresses.
var addrs = func() map[netip.Addr]bool {
	m := map[netip.Addr]bool{}
	for _, s := range []string{
		// Cloudflare 1.1.1.1, 1.1.1.2 (malware), 1.1.1.3 (family).
		"1.1.1.1", "1.0.0.1", "1.1.1.2", "1.0.0.2", "1.1.1.3", "1.0.0.3",
		"2606:4700:4700::1111", "2606:4700:4700::1001", "2606:4700:4700::1112",
		"2606:4700:4700::1002", "2606:4700:4700::1113", "2606:4700:4700::1003",
		// Google Public DNS.
		"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844",
		// Quad9 (secured, unsecured 10, ECS 11).
		"9.9.9.9", "149.112.112.112", "2620:fe::fe", "2620:fe::9",
		"9.9.9.10", "149.112.112.10", "2620:fe::10", "2620:fe::fe:10",
		"9.9.9.11", "149.112.112.11", "2620:fe::11", "2620:fe::fe:11",
		// OpenDNS and FamilyShield.
		"208.67.222.222", "208.67.220.220", "2620:119:35::35", "2620:119:53::53",
		"208.67.222.123", "208.67.220.123",
		// AdGuard DNS (default, family, unfiltered).
		"94.140.14.14", "94.140.15.15", "2a10:50c0::ad1:ff", "2a10:50c0::ad2:ff",
		"94.140.14.15", "94.140.15.16", "2a10:50c0::bad1:ff", "2a10:50c0::bad2:ff",
		"94.140.14.140", "94.140.14.141", "2a10:50c0::1:ff", "2a10:50c0::2:ff",
		// CleanBrowsing (security, adult, family filters).
		"185.228.168.9", "185.228.169.9", "185.228.168.10", "185.228.169.11",
		"185.228.168.168", "185.228.169.168",
		// DNS.SB.
		"185.222.222.222", "45.11.45.11", "2a09::", "2a11::",
	} {
		m[netip.MustParseAddr(s)] = true
	}
	return m
}()

// IsResolverName reports whether name, a server name as sent in a TLS or
// QUIC ClientHello, is a listed resolver or a name below one. Case and a
// trailing dot are ignored.
func IsResolverName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return false
	}
	for _, n := range names {
		if len(name) == len(n) && strings.EqualFold(name, n) {
			return true
		}
		if len(name) > len(n) && name[len(name)-len(n)-1] == '.' && strings.EqualFold(name[len(name)-len(n):], n) {
			return true
		}
	}
	return false
}

// IsResolverAddr reports whether a is a listed resolver address (an
// IPv4-mapped IPv6 address counts as its IPv4 address).
func IsResolverAddr(a netip.Addr) bool {
	return addrs[a.Unmap()]
}

// Names returns the listed resolver names, in list order.
func Names() []string { return append([]string(nil), names...) }
