package portal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Stage is how far a repair has progressed.
type Stage int

const (
	StageReported Stage = iota
	StageInspected
	StageScheduled
	StageDone
)

// Stages lists every stage in order.
var Stages = []Stage{StageReported, StageInspected, StageScheduled, StageDone}

func (s Stage) String() string {
	switch s {
	case StageReported:
		return "Reported"
	case StageInspected:
		return "Inspected"
	case StageScheduled:
		return "Scheduled"
	case StageDone:
		return "Done"
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Repair is one repair request of a citizen.
type Repair struct {
	// Ref is the council's reference: "HR-", the letters and digits of the citizen number,
	// and a sequence number, e.g. "HR-C1001-02".
	Ref         string
	Category    string // one of the form's categories, e.g. "plumbing"
	Room        string // one of the form's rooms, e.g. "kitchen"
	Description string
	Urgent      bool
	Phone       string
	Stage       Stage
	Reported    time.Time
}

// maxRepairsPerCitizen bounds what one citizen can add in the life of the process.
const maxRepairsPerCitizen = 50

// repairStore holds every citizen's repairs in memory, generating a history for a citizen
// the first time they are seen.
type repairStore struct {
	seed  string
	fixed map[string][]Repair
	now   func() time.Time

	mu   sync.Mutex
	byID map[string][]Repair
}

func newRepairStore(seed string, fixed map[string][]Repair, now func() time.Time) *repairStore {
	return &repairStore{seed: seed, fixed: fixed, now: now, byID: make(map[string][]Repair)}
}

// list returns a copy of the citizen's repairs, newest first.
func (st *repairStore) list(number string) []Repair {
	st.mu.Lock()
	defer st.mu.Unlock()
	rs := st.loadLocked(number)
	out := make([]Repair, len(rs))
	for i := range rs {
		out[i] = rs[len(rs)-1-i]
	}
	return out
}

// add records a new repair in stage Reported and returns it.
func (st *repairStore) add(number string, req repairForm) (Repair, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	rs := st.loadLocked(number)
	if len(rs) >= maxRepairsPerCitizen {
		return Repair{}, fmt.Errorf("portal: you already have %d repair requests: call the council's repairs line to report more", len(rs))
	}
	r := Repair{
		Ref:         fmt.Sprintf("HR-%s-%02d", refPart(number), len(rs)+1),
		Category:    req.Category,
		Room:        req.Room,
		Description: req.Description,
		Urgent:      req.Urgent,
		Phone:       req.Phone,
		Stage:       StageReported,
		Reported:    st.now().UTC().Truncate(time.Second),
	}
	st.byID[number] = append(rs, r)
	return r, nil
}

func (st *repairStore) loadLocked(number string) []Repair {
	if rs, ok := st.byID[number]; ok {
		return rs
	}
	var rs []Repair
	if fixed, ok := st.fixed[number]; ok {
		rs = append([]Repair(nil), fixed...)
	} else {
		rs = generateRepairs(st.seed, number, st.now())
	}
	st.byID[number] = rs
	return rs
}

// refPart turns a citizen number into the part of a reference that names them: its letters
// and digits, at most 12.
func refPart(number string) string {
	b := make([]byte, 0, 12)
	for i := 0; i < len(number) && len(b) < 12; i++ {
		c := number[i]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "X"
	}
	return string(b)
}

var sampleRepairs = []struct{ category, room, text string }{
	{"plumbing", "kitchen", "Kitchen tap drips constantly, even when fully closed."},
	{"heating", "living-room", "Radiator in the living room stays cold at the top."},
	{"windows-doors", "bedroom", "Bedroom window latch is broken and the window will not lock."},
	{"damp-mould", "bathroom", "Black mould spreading on the bathroom ceiling above the shower."},
	{"electrical", "hallway", "Hallway light flickers and the switch feels warm."},
	{"windows-doors", "outside", "Front door lock sticks; the key turns only with force."},
	{"plumbing", "bathroom", "Toilet cistern keeps running after flushing."},
	{"heating", "kitchen", "Boiler shows fault code F28 and there is no hot water."},
	{"other", "outside", "Loose paving slab by the entrance is a trip hazard."},
	{"electrical", "kitchen", "Extractor fan above the cooker does not start."},
}

// generateRepairs makes a deterministic history of 2–4 repairs for a citizen number, so
// that two citizens see different repairs and the same citizen always sees the same ones.
func generateRepairs(seed, number string, now time.Time) []Repair {
	sum := sha256.Sum256([]byte("smartpath-portal\x00" + seed + "\x00" + number))
	rng := rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])))
	n := 2 + rng.IntN(3)
	picks := rng.Perm(len(sampleRepairs))[:n]
	base := now.UTC().Truncate(24 * time.Hour)
	rs := make([]Repair, n)
	for i, p := range picks {
		sr := sampleRepairs[p]
		// Older repairs are further along.
		stage := Stage(min(3, n-1-i+rng.IntN(2)))
		rs[i] = Repair{
			Ref:         fmt.Sprintf("HR-%s-%02d", refPart(number), i+1),
			Category:    sr.category,
			Room:        sr.room,
			Description: sr.text,
			Urgent:      rng.IntN(5) == 0,
			Stage:       stage,
			Reported:    base.Add(-time.Duration((n-i)*9+rng.IntN(7)) * 24 * time.Hour).Add(time.Duration(8+rng.IntN(9)) * time.Hour),
		}
	}
	return rs
}
