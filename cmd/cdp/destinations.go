package main

import (
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"

	_ "github.com/cdpkit/cdp/sync/destinations/all" // every destination type
)

// checkDestinations checks destinations and syncs against the registered specs.
func checkDestinations(p *models.Project) models.Diagnostics { return destination.Check(p) }
