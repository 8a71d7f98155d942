package storage_test

import (
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// The inputs that broke normalisation once: removing a separator let the
// next characters combine on a second pass.
var normalizeSeeds = []string{"e \u0301", "\u1100 \u1161", "\u1100-\u1161", "a.\u0308", "４４１９００ 2011-0517 123x",
	"Li·Xiaomei", "  李 小梅 ", "\u0130stanbul", "ｅ\u3000\u0301"}

// FuzzBlindIndexNormalize: the blind index's normalisations reach a fixed
// point, and inputs equal after NFKC get equal fingerprints.
func FuzzBlindIndexNormalize(f *testing.F) {
	for _, s := range normalizeSeeds {
		f.Add(s)
	}
	keys := storagetest.Keyring(f)
	birth := time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for name, fn := range map[string]func(string) string{"id": storage.NormalizeIDNumber, "name": storage.NormalizeName} {
			once := fn(s)
			if twice := fn(once); twice != once {
				t.Fatalf("%s: not a fixed point: %q -> %q -> %q", name, s, once, twice)
			}
			if fn(norm.NFKC.String(s)) != once {
				t.Fatalf("%s: %q and its NFKC form normalise differently", name, s)
			}
		}
		a := keys.Fingerprints(cases.Identity{FullName: s, IDNumber: s, ClaimedBirthDate: &birth})
		b := keys.Fingerprints(cases.Identity{FullName: norm.NFKC.String(s), IDNumber: norm.NFKC.String(s), ClaimedBirthDate: &birth})
		if !slices.Equal(a, b) {
			t.Fatalf("%q and its NFKC form have different fingerprints", s)
		}
	})
}

func TestNameVariants(t *testing.T) {
	tests := map[string][]string{
		"Li Xiaomei": {"lixiaomei"}, // written and sorted are the same
		"Xiaomei Li": {"lixiaomei", "xiaomeili"},
		"李小梅":        {"lixiaomei", "meilixiao", "xiaomeili"},
		"Lü Li":      {"lilv", "lvli"},
		"欧阳娜娜":       {"nanaouyang", "ouyangnana", "yangnanaou"},
		"Lǚ Li":      {"lilv", "lvli"},
		"吕丽":         {"lilv", "lvli"},
		"喆𠮷":         {"zhe𠮷", "𠮷zhe"},
		"":           nil,
		" · - ":      nil,
	}
	for in, want := range tests {
		if got := storage.NameVariants(in); !slices.Equal(got, want) {
			t.Errorf("NameVariants(%q) = %q, want %q", in, got, want)
		}
	}
}
