package retail

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestFilesHoldTheRunnableProject(t *testing.T) {
	var got []string
	err := fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"README.md", "cdp.yml",
		"models/consent.yml", "models/identity.yml", "models/segments.yml", "models/sources.yml", "models/syncs.yml", "models/traits.yml",
		"seeds/consent_events.csv", "seeds/crm_contacts.csv", "seeds/orders.csv", "seeds/pos_transactions.csv",
		"seeds/shop_customers.csv", "seeds/web_events.csv",
	}
	if !slices.Equal(got, want) {
		t.Errorf("embedded files:\n got %v\nwant %v", got, want)
	}
}

// TestSourcesReferenceSeeds checks that every seed is read by a source and
// that every seed table a model names exists.
func TestSourcesReferenceSeeds(t *testing.T) {
	models, err := os.ReadFile("models/sources.yml")
	if err != nil {
		t.Fatal(err)
	}
	seeds, err := fs.Glob(Files, "seeds/*.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds {
		table := "cdp.seed_" + strings.TrimSuffix(strings.TrimPrefix(s, "seeds/"), ".csv")
		if !strings.Contains(string(models), table) {
			t.Errorf("no source reads %s (%s)", table, s)
		}
	}
	for _, line := range strings.Split(string(models), "\n") {
		i := strings.Index(line, "cdp.seed_")
		if i < 0 {
			continue
		}
		name := strings.TrimRight(line[i+len("cdp.seed_"):], " \r")
		if _, err := fs.Stat(Files, "seeds/"+name+".csv"); err != nil {
			t.Errorf("sources.yml names cdp.seed_%s but seeds/%s.csv does not exist", name, name)
		}
	}
}

// TestReadmeIdentifiersExist keeps the walkthrough's examples true to the data.
func TestReadmeIdentifiersExist(t *testing.T) {
	all := ""
	for _, name := range []string{"crm_contacts", "shop_customers", "orders", "pos_transactions", "web_events"} {
		b, err := Files.ReadFile("seeds/" + name + ".csv")
		if err != nil {
			t.Fatal(err)
		}
		all += string(b)
	}
	for _, id := range []string{
		"camille.moreau@orange.fr", "C.Moreau@Lumen-conseil.Fr ", "u_000269", "LC-1970164", "R103103",
		"f2d7882e-2284-46f2-8746-edabcc0cb7ac,,", "f2d7882e-2284-46f2-8746-edabcc0cb7ac,u_001375,",
		"f2d7882e-2284-46f2-8746-edabcc0cb7ac,u_001349,",
		"h.bonnet@yahoo.fr", "u_001458,hugo.bonnet@vela-studio.it", "R102754,u_001458,h.bonnet@yahoo.fr",
		",0000000000,",
	} {
		if !strings.Contains(all, id) {
			t.Errorf("README example %q is not in the seeds", id)
		}
	}
}
