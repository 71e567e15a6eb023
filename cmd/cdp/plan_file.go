package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/engine"
)

// writePlanFile saves a plan, readable only by its owner: it holds the
// records' fields, customer data.
func writePlanFile(path string, p *engine.SavedPlan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save the plan: %w", err)
	}
	return nil
}

// loadPlan reads `sync run --plan FILE [SYNC…]`: the plan's syncs (or the
// named ones), each checked against the project before anything runs. A
// plan of another project, or naming a sync it does not hold or the
// project does not declare, is a usage error; a sync whose definition or
// state moved is a conflict.
func loadPlan(c *cli.Context, p *models.Project, eng *engine.Engine) (map[string]*engine.SavedSync, []*models.Sync, error) {
	path := c.String("plan")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, usageErr("--plan: %v", err)
	}
	plan, err := engine.ReadPlan(b)
	if err != nil {
		return nil, nil, usageErr("--plan %s: not a saved plan: %v", path, err)
	}
	if plan.Project != p.Name {
		return nil, nil, usageErr("--plan %s is a plan of project %q, this is %q", path, plan.Project, p.Name)
	}
	bySync := map[string]*engine.SavedSync{}
	var inPlan []string
	for _, ss := range plan.Syncs {
		bySync[ss.Sync] = ss
		inPlan = append(inPlan, ss.Sync)
	}
	names := c.Args().Slice()
	if len(names) == 0 {
		names = inPlan
	}
	if len(names) == 0 {
		return nil, nil, usageErr("--plan %s holds no syncs", path)
	}
	var syncs []*models.Sync
	var conflicts []string
	for _, n := range names {
		ss := bySync[n]
		if ss == nil {
			return nil, nil, usageErr("--plan %s has no sync %q (it holds: %s)", path, n, strings.Join(inPlan, ", "))
		}
		found, err := selectSyncs(p, []string{n})
		if err != nil {
			return nil, nil, err
		}
		s := found[0]
		if err := eng.CheckPlan(c.Context, s, ss); errors.Is(err, engine.ErrPlanStale) {
			conflicts = append(conflicts, err.Error())
		} else if err != nil {
			return nil, nil, err
		}
		syncs = append(syncs, s)
	}
	if len(conflicts) > 0 {
		return nil, nil, &exitError{code: exitConflict, err: fmt.Errorf("the plan %s (made %s) no longer applies; nothing was sent:\n  %s\nrun `cdp sync plan --out %s` again",
			path, plan.Created.Format("2006-01-02 15:04:05 UTC"), strings.Join(conflicts, "\n  "), path)}
	}
	return bySync, syncs, nil
}
