package telemetry

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// alertRules is the example rule file docs/metrics.md offers fleet staff.
const alertRules = "../../docs/prometheus/kiosk-alerts.yaml"

// The example alert rules are well formed and name only metrics, and label values, that the
// agent serves; with Debian's prometheus package installed, promtool checks them too. And
// docs/metrics.md lists every kiosk_ metric.
func TestAlertRules(t *testing.T) {
	raw, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("%s: %v", alertRules, err)
	}
	served := map[string]map[string]map[string]bool{} // metric → label → values
	mfs, err := New().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		labels := map[string]map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] == nil {
					labels[lp.GetName()] = map[string]bool{}
				}
				labels[lp.GetName()][lp.GetValue()] = true
			}
		}
		served[mf.GetName()] = labels
	}
	metricRe := regexp.MustCompile(`\b(kiosk_[a-z_]+)(\{([^}]*)\})?`)
	matcherRe := regexp.MustCompile(`(\w+)="([^"]*)"`)
	n := 0
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("rule %q: wants alert, expr, labels.severity, annotations.summary and .description", r.Alert)
			}
			for _, m := range metricRe.FindAllStringSubmatch(r.Expr, -1) {
				labels, ok := served[m[1]]
				if !ok {
					t.Errorf("rule %s: %s is not a metric the agent serves", r.Alert, m[1])
					continue
				}
				for _, lm := range matcherRe.FindAllStringSubmatch(m[3], -1) {
					if !labels[lm[1]][lm[2]] {
						t.Errorf("rule %s: %s has no %s=%q", r.Alert, m[1], lm[1], lm[2])
					}
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("%d rules, want the reader, PC/SC, out of order, shell and portal alerts at least", n)
	}
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range served {
		if strings.HasPrefix(name, "kiosk_") && !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/metrics.md does not list %s", name)
		}
	}
	if path, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.Command(path, "check", "rules", alertRules).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool not installed (Debian's prometheus package): the rules' PromQL is not checked here")
	}
}
