package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/agent/schedule"
	"github.com/reachaudit/reachaudit/internal/yamlfile"
	_ "github.com/reachaudit/reachaudit/providers/aws" // the fleet config names it
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

const binary = "/usr/local/bin/reachaudit"

// unitForVerify copies the unit with ExecStart pointing at a binary that
// exists here (verify refuses a missing one), the arguments unchanged.
func unitForVerify(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("reachaudit.service")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const from = "ExecStart=" + binary + " "
	if !bytes.Contains(data, []byte(from)) {
		t.Fatalf("unit has no %q line", from)
	}
	out := filepath.Join(t.TempDir(), "reachaudit.service")
	if err := os.WriteFile(out, bytes.Replace(data, []byte(from), []byte("ExecStart="+exe+" "), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnitVerifies(t *testing.T) {
	tool := sandboxtest.RequireTool(t, "systemd-analyze")
	unit := unitForVerify(t)
	out, err := exec.Command(tool, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Exposure 2.0 or below on systemd's own 0-10 scale ("OK").
	out, err = exec.Command(tool, "security", "--offline=true", "--threshold=20", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: exposure above 2.0: %v\n%s", err, out)
	}
}

// The settings the unit's promise rests on: a dedicated user, a read-only
// file system but for the state directory, no privileges, reload by SIGHUP.
func TestSystemdUnitHardening(t *testing.T) {
	f, err := os.Open("reachaudit.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			got[k] = append(got[k], v)
		}
	}
	for _, want := range []struct{ key, value string }{
		{"ExecStart", binary + " agent --config /etc/reachaudit/config.yaml"},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"DynamicUser", "yes"},
		{"User", "reachaudit"},
		{"StateDirectory", "reachaudit"},
		{"ProtectSystem", "strict"},
		{"ReadWritePaths", "/var/lib/reachaudit"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"NoNewPrivileges", "yes"},
		{"CapabilityBoundingSet", ""},
		{"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"SystemCallFilter", "@system-service"},
		{"RestartPreventExitStatus", "2"},
	} {
		if !slices.Contains(got[want.key], want.value) {
			t.Errorf("%s=%s missing (have %q)", want.key, want.value, got[want.key])
		}
	}
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name string   `yaml:"name"`
	Args []string `yaml:"args"`
	Env  []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type podSpec struct {
	RestartPolicy   string `yaml:"restartPolicy"`
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    int   `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name         string `yaml:"name"`
		GenerateName string `yaml:"generateName"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		// Job
		CompletionMode   string   `yaml:"completionMode"`
		Completions      *int     `yaml:"completions"`
		Parallelism      *int     `yaml:"parallelism"`
		AccessModes      []string `yaml:"accessModes"`
		PodFailurePolicy struct {
			Rules []struct {
				Action      string `yaml:"action"`
				OnExitCodes struct {
					Values []int `yaml:"values"`
				} `yaml:"onExitCodes"`
			} `yaml:"rules"`
		} `yaml:"podFailurePolicy"`
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
		JobTemplate       struct {
			Spec struct {
				PodFailurePolicy struct {
					Rules []struct {
						Action      string `yaml:"action"`
						OnExitCodes struct {
							Values []int `yaml:"values"`
						} `yaml:"onExitCodes"`
					} `yaml:"rules"`
				} `yaml:"podFailurePolicy"`
				Template struct {
					Spec podSpec `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

func manifests(t *testing.T, name string) map[string]manifest {
	t.Helper()
	f, err := os.Open(filepath.Join("kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]manifest{}
	dec := yaml.NewDecoder(f)
	for {
		var m manifest
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[m.Kind] = m
	}
	return out
}

// agentConfig is the part of the example config the manifests depend on.
type agentConfig struct {
	Listen  string `yaml:"listen"`
	History struct {
		Path string `yaml:"path"`
	} `yaml:"history"`
}

// configFile returns the ConfigMap's config and the path it is mounted at
// in pod, checking that the mount, the volume and the key agree.
func configFile(t *testing.T, pod podSpec, c container, cm manifest, flagValue string) []byte {
	t.Helper()
	dir, file := path.Split(flagValue)
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) != path.Clean(dir) {
			continue
		}
		if !m.ReadOnly {
			t.Errorf("config mounted writable at %s", m.MountPath)
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name {
				data, ok := cm.Data[file]
				if !ok {
					t.Fatalf("ConfigMap %s has no key %s", cm.Metadata.Name, file)
				}
				return []byte(data)
			}
		}
	}
	t.Fatalf("--config %s is not a file of ConfigMap %s mounted in the pod", flagValue, cm.Metadata.Name)
	return nil
}

func flag(args []string, name string) string {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func checkHardened(t *testing.T, pod podSpec, c container) {
	t.Helper()
	if p := pod.SecurityContext.RunAsNonRoot; p == nil || !*p || pod.SecurityContext.RunAsUser == 0 {
		t.Error("pod may run as root")
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("root file system writable")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("privilege escalation allowed")
	}
	if !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Error("capabilities not dropped")
	}
}

// The Deployment runs the agent on the example config, its probes hit the
// agent's real endpoints on the port the config listens on, and its state
// lives on the volume.
func TestKubernetesDeployment(t *testing.T) {
	cm := manifests(t, "configmap.yaml")["ConfigMap"]
	ms := manifests(t, "deployment.yaml")
	dep, ok := ms["Deployment"]
	if !ok {
		t.Fatal("deployment.yaml has no Deployment")
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != "Recreate" {
		t.Error("the agent must run as exactly one replica, replaced not rolled (one history writer)")
	}
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Args[0] != "agent" {
		t.Errorf("args = %v; want the agent command", c.Args)
	}
	checkHardened(t, pod, c)
	data := configFile(t, pod, c, cm, flag(c.Args, "--config"))

	var cfg agentConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatalf("listen %q: %v", cfg.Listen, err)
	}
	if host, _, _ := net.SplitHostPort(cfg.Listen); host == "127.0.0.1" || host == "localhost" {
		t.Errorf("listen %s: the kubelet's probes cannot reach a loopback address", cfg.Listen)
	}
	ports := map[string]string{}
	for _, p := range c.Ports {
		ports[p.Name] = strconv.Itoa(p.ContainerPort)
	}
	var state string
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.PersistentVolumeClaim != nil {
				state = m.MountPath
			}
		}
	}
	if state == "" || !strings.HasPrefix(cfg.History.Path, state+"/") {
		t.Errorf("history %s is not on the persistent volume (%s)", cfg.History.Path, state)
	}

	// The schedules validate as the agent reads them, and the agent built
	// from them answers the probes.
	secs, err := yamlfile.Sections("config.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var plan schedule.Plan
	for _, s := range secs {
		if s.Key == "schedules" {
			var l schedule.List
			if err := yamlfile.DecodeNode("config.yaml", data, s.Node, s.Key, &l); err != nil {
				t.Fatal(err)
			}
			plan.Schedules = l
		}
	}
	store, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	plan.Scan = func(context.Context, agent.Scope) (*agent.Result, error) { return nil, errors.New("not scanning") }
	d, err := schedule.New(schedule.Options{Plan: plan, History: store})
	if err != nil {
		t.Fatalf("agent refuses the example config: %v", err)
	}
	for name, p := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil {
			t.Errorf("no %s probe", name)
			continue
		}
		if ports[p.HTTPGet.Port] != port && p.HTTPGet.Port != port {
			t.Errorf("%s probe on port %s; the agent listens on %s", name, p.HTTPGet.Port, port)
		}
		rec := httptest.NewRecorder()
		d.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.HTTPGet.Path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s probe %s answers %d", name, p.HTTPGet.Path, rec.Code)
		}
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("liveness must be /healthz (alive) and readiness /readyz (last run not failed)")
	}
}

func TestKubernetesCronJob(t *testing.T) {
	cm := manifests(t, "configmap.yaml")["ConfigMap"]
	cj, ok := manifests(t, "cronjob.yaml")["CronJob"]
	if !ok {
		t.Fatal("cronjob.yaml has no CronJob")
	}
	if cj.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("concurrencyPolicy %q; scans must not stack", cj.Spec.ConcurrencyPolicy)
	}
	job := cj.Spec.JobTemplate.Spec
	pod := job.Template.Spec
	c := pod.Containers[0]
	if c.Args[0] != "scan" {
		t.Errorf("args = %v; want the one-shot scan", c.Args)
	}
	if _, err := risk.ParseSeverity(flag(c.Args, "--fail-on")); err != nil {
		t.Errorf("--fail-on: %v", err)
	}
	if pod.RestartPolicy != "Never" {
		t.Errorf("restartPolicy %q; exit codes must reach the Job", pod.RestartPolicy)
	}
	var failFast []int
	for _, r := range job.PodFailurePolicy.Rules {
		if r.Action == "FailJob" {
			failFast = append(failFast, r.OnExitCodes.Values...)
		}
	}
	if !slices.Contains(failFast, 2) || !slices.Contains(failFast, 3) {
		t.Errorf("exit 2 (bad config) and 3 (findings) must fail the Job without retries; FailJob on %v", failFast)
	}
	checkHardened(t, pod, c)
	configFile(t, pod, c, cm, flag(c.Args, "--config"))
	// With a read-only root, the file outputs and the spool of the
	// example config need a writable state directory.
	writable := false
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/var/lib/reachaudit" && !m.ReadOnly {
			writable = true
		}
	}
	if !writable {
		t.Error("the scan has no writable /var/lib/reachaudit for its file outputs and spool")
	}
}

// The fleet: an Indexed Job whose pods scan one shard each, as many pods as
// the config has shards, each writing its result where the merge Job reads
// the run's shards, under one run id that all pods of the Job share.
func TestKubernetesFleet(t *testing.T) {
	fc := manifests(t, "fleet-config.yaml")
	cm, pvc := fc["ConfigMap"], fc["PersistentVolumeClaim"]
	if !slices.Contains(pvc.Spec.AccessModes, "ReadWriteMany") {
		t.Errorf("results claim %s is %v: the shards' pods on several nodes need ReadWriteMany", pvc.Metadata.Name, pvc.Spec.AccessModes)
	}
	shards, ok := manifests(t, "fleet-shards.yaml")["Job"]
	if !ok {
		t.Fatal("fleet-shards.yaml has no Job")
	}
	merge, ok := manifests(t, "fleet-merge.yaml")["Job"]
	if !ok {
		t.Fatal("fleet-merge.yaml has no Job")
	}
	if shards.Spec.CompletionMode != "Indexed" || shards.Spec.Completions == nil || shards.Spec.Parallelism == nil {
		t.Fatalf("shards Job: completionMode %q, completions and parallelism must be set", shards.Spec.CompletionMode)
	}
	n := *shards.Spec.Completions
	if p := *shards.Spec.Parallelism; p < 1 || p > n {
		t.Errorf("parallelism %d outside 1..%d", p, n)
	}
	if shards.Metadata.GenerateName == "" || merge.Metadata.GenerateName == "" {
		t.Error("each run is a new Job: generateName, created with kubectl create")
	}

	// The config the pods read gives each index its shard of n.
	pod := shards.Spec.Template.Spec
	c := pod.Containers[0]
	checkHardened(t, pod, c)
	if c.Args[0] != "scan" || flag(c.Args, "--format") != "json" {
		t.Errorf("shard args %v: want scan --format json", c.Args)
	}
	data := configFile(t, pod, c, cm, flag(c.Args, "--config"))
	cfg, err := config.Parse("config.yaml", data, []string{})
	if err != nil {
		t.Fatalf("the fleet config does not load: %v", err)
	}
	for k := range n {
		sh, err := cfg.ScanShard("", []string{config.JobIndexEnv + "=" + strconv.Itoa(k)})
		if err != nil || sh != (agent.Shard{Index: k, Count: n}) {
			t.Errorf("pod %d scans shard %v (%v); want %d/%d: shards: in the config must equal completions", k, sh, err, k, n)
		}
	}
	runFromJob := false
	for _, e := range c.Env {
		if e.Name == "REACHAUDIT_RUN_ID" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.labels['batch.kubernetes.io/job-name']" {
			runFromJob = true
		}
	}
	if !runFromJob {
		t.Error("REACHAUDIT_RUN_ID must come from the Job's name, which all its pods share")
	}
	out := flag(c.Args, "--out")
	if !strings.Contains(out, "$(REACHAUDIT_RUN_ID)") || !strings.Contains(out, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("shard --out %s must name the run and the index", out)
	}
	var failFast []int
	for _, r := range shards.Spec.PodFailurePolicy.Rules {
		if r.Action == "FailJob" {
			failFast = append(failFast, r.OnExitCodes.Values...)
		}
	}
	if !slices.Contains(failFast, 2) {
		t.Error("exit 2 (bad config) must fail the shards Job without retries")
	}

	// The merge reads the directory the shards write to, on the same claim,
	// and writes the run's document outside it.
	mpod := merge.Spec.Template.Spec
	mc := mpod.Containers[0]
	checkHardened(t, mpod, mc)
	configFile(t, mpod, mc, cm, flag(mc.Args, "--config"))
	if mc.Args[0] != "merge" {
		t.Fatalf("merge args %v", mc.Args)
	}
	in := mc.Args[len(mc.Args)-1]
	if path.Dir(out) != in {
		t.Errorf("merge reads %s; the shards write to %s", in, path.Dir(out))
	}
	if mout := flag(mc.Args, "--out"); mout == "" || strings.HasPrefix(mout, in+"/") {
		t.Errorf("merge --out %q must be outside the shards' directory %s (it would be read as a shard next time)", mout, in)
	}
	claim := func(p podSpec, c container, mount string) string {
		for _, m := range c.VolumeMounts {
			if strings.HasPrefix(mount, m.MountPath+"/") {
				for _, v := range p.Volumes {
					if v.Name == m.Name && v.PersistentVolumeClaim != nil {
						return v.PersistentVolumeClaim.ClaimName
					}
				}
			}
		}
		return ""
	}
	if a, b := claim(pod, c, out), claim(mpod, mc, in); a == "" || a != b || a != pvc.Metadata.Name {
		t.Errorf("shards write on claim %q, merge reads claim %q; want both %s", a, b, pvc.Metadata.Name)
	}
}

// The image runs the same binary path as the unit, as the non-root user the
// manifests expect, built without cgo.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var user, entry, cmd string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "FROM":
			froms = append(froms, f[1])
		case "USER":
			user = f[1]
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		case "CMD":
			cmd = strings.Join(f[1:], " ")
		}
	}
	if len(froms) < 2 || froms[len(froms)-1] != "scratch" {
		t.Errorf("FROM %v; want a build stage and a scratch image", froms)
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q; want a non-root user", user)
	} else if dep := manifests(t, "deployment.yaml")["Deployment"]; strconv.Itoa(dep.Spec.Template.Spec.SecurityContext.RunAsUser) != uid {
		t.Errorf("image user %s, Deployment runAsUser %d", uid, dep.Spec.Template.Spec.SecurityContext.RunAsUser)
	}
	if !strings.Contains(string(data), "CGO_ENABLED=0") {
		t.Error("build is not static (CGO_ENABLED=0)")
	}
	if entry != `["`+binary+`"]` {
		t.Errorf("ENTRYPOINT %s; want %s", entry, binary)
	}
	if !strings.Contains(cmd, `"agent", "--config", "/etc/reachaudit/config.yaml"`) {
		t.Errorf("CMD %s; want the agent on /etc/reachaudit/config.yaml", cmd)
	}
	if !strings.Contains(string(data), "ca-certificates.crt") {
		t.Error("no CA certificates: TLS to the clouds would fail")
	}
}
