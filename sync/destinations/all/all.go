// Package all registers every destination type: import it for its side
// effects wherever destinations are opened or described.
package all

import (
	_ "github.com/cdpkit/cdp/sync/destinations/file"          // file
	_ "github.com/cdpkit/cdp/sync/destinations/postgrestable" // postgres_table
	_ "github.com/cdpkit/cdp/sync/destinations/webhook"       // webhook
)
