package bench

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	MemGiB    float64 `json:"mem_gib"`
	Go        string  `json:"go"`
	OS        string  `json:"os"`
	DuckDB    string  `json:"duckdb"`
	Postgres  string  `json:"postgres"`
	Commit    string  `json:"commit"`
	Date      string  `json:"date"`
	LoadStart string  `json:"load_avg_start"`
	LoadEnd   string  `json:"load_avg_end"`
}

// ReadMachine reads the machine's description from /proc and the engines.
func ReadMachine(ctx context.Context, cdp string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Date: time.Now().UTC().Format(time.RFC3339), LoadStart: loadAvg()}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseFloat(strings.Fields(procField("/proc/meminfo", "MemTotal") + " 0")[0], 64); err == nil {
		m.MemGiB = kb / 1024 / 1024
	}
	if w, err := duckdb.Open(ctx, ""); err == nil {
		m.DuckDB = queryText(ctx, w, "SELECT version()")
		w.Close()
	}
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	if bi, ok := debug.ReadBuildInfo(); ok && m.Commit == "" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				m.Commit = s.Value
			}
		}
	}
	return m
}

// queryText runs a query returning one text value ("" on any error).
func queryText(ctx context.Context, w warehouse.Warehouse, q string) string {
	rows, err := w.Query(ctx, q)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var v string
	if rows.Next() {
		_ = rows.Scan(&v)
	}
	return v
}

// postgresVersion asks the server for its version.
func postgresVersion(ctx context.Context, dsn string) string {
	w, err := postgres.Open(ctx, dsn)
	if err != nil {
		return ""
	}
	defer w.Close()
	return queryText(ctx, w, "SELECT version()")
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg is the 1, 5 and 15 minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
