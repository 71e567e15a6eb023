package hashing_test

import (
	"testing"

	"github.com/cdpkit/cdp/sync/hashing"
)

// vendorVectors are examples from the vendors' documentation (see the
// package doc): the input, the normalized value the vendor shows, and, where
// the vendor prints one, the hex SHA-256.
var vendorVectors = []struct {
	profile, in, norm, hash string
}{
	// Meta Marketing API, Custom Audiences: hash("sha256", "mary@example.com").
	{"meta_email", "mary@example.com", "mary@example.com", "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"},
	{"meta_email", "  Mary@Example.COM\t", "mary@example.com", "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"},
	{"sha256", "mary@example.com", "mary@example.com", "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"},
	// Google Data Manager "Format user data": (800)555-0100 is +18005550100
	// once the country code is there (identity normalization adds it).
	{"google_phone", "+1 (800) 555-0100", "+18005550100", ""},
	{"google_phone", "+18005550100", "+18005550100", ""},
	// Google Ads API forum / enhanced conversions: E.164 examples.
	{"google_phone", "+12125650000", "+12125650000", ""},
	{"google_phone", "+44 20 7031 3000", "+442070313000", ""},
	// Data Manager: lower-case, trim, dots before the @ of gmail.com and
	// googlemail.com removed.
	{"google_email", " Jane.Doe@GMAIL.com ", "janedoe@gmail.com", ""},
	{"google_email", "jane.doe+ads@googlemail.com", "janedoe@googlemail.com", ""},
	{"google_email", "jane.doe+ads@example.com", "jane.doe+ads@example.com", ""},
	// Data Manager given_name / family_name: lower-case, trimmed.
	{"google_name", "  John ", "john", ""},
	// Meta: phone digits with country code, no symbols or leading zeros.
	{"meta_phone", "+1 (650) 555-1212", "16505551212", ""},
	{"meta_phone", "0044 844 412 4653", "448444124653", ""},
	// Meta: names lower-case, no punctuation; UTF-8 letters kept.
	{"meta_name", "  Mary-Ann O'Brien. ", "maryann obrien", ""},
	{"meta_name", "Émile", "émile", ""},
	// Meta: country as lower-case ISO 3166-1 alpha-2.
	{"meta_country", " US ", "us", ""},
}

func TestVendorVectors(t *testing.T) {
	for _, v := range vendorVectors {
		p := hashing.Lookup(v.profile)
		if p == nil {
			t.Fatalf("no profile %s", v.profile)
		}
		norm, ok := p.Normalize(v.in)
		if !ok || norm != v.norm {
			t.Errorf("%s.Normalize(%q) = %q, %v; want %q", v.profile, v.in, norm, ok, v.norm)
		}
		want := v.hash
		if want == "" {
			want = hashing.SHA256Hex(v.norm)
		}
		if got, ok := p.Reference(v.in); !ok || got != want {
			t.Errorf("%s.Reference(%q) = %s, %v; want %s", v.profile, v.in, got, ok, want)
		}
	}
}

func TestEmptyIsNull(t *testing.T) {
	for _, c := range []struct{ profile, in string }{
		{"google_email", " \t "}, {"google_phone", "n/a"}, {"google_phone", "000"}, {"google_name", "  "},
		{"meta_email", ""}, {"meta_phone", "+"}, {"meta_name", " .-' "}, {"meta_country", "usa"}, {"meta_country", ""},
	} {
		if got, ok := hashing.Lookup(c.profile).Reference(c.in); ok {
			t.Errorf("%s.Reference(%q) = %s, want NULL", c.profile, c.in, got)
		}
	}
}

func TestNames(t *testing.T) {
	want := []string{"google_email", "google_name", "google_phone", "meta_country", "meta_email", "meta_name", "meta_phone", "sha256"}
	got := hashing.Names()
	if len(got) != len(want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Names() = %v, want %v", got, want)
		}
	}
}
