// Package all registers every destination type: import it for its side
// effects wherever destinations are opened or described.
package all

import (
	_ "github.com/cdpkit/cdp/sync/destinations/braze"      // braze
	_ "github.com/cdpkit/cdp/sync/destinations/customerio" // customerio
	_ "github.com/cdpkit/cdp/sync/destinations/file"
	_ "github.com/cdpkit/cdp/sync/destinations/googledatamanager"  // google_data_manager               // file
	_ "github.com/cdpkit/cdp/sync/destinations/hubspot"            // hubspot
	_ "github.com/cdpkit/cdp/sync/destinations/intercom"           // intercom
	_ "github.com/cdpkit/cdp/sync/destinations/iterable"           // iterable
	_ "github.com/cdpkit/cdp/sync/destinations/klaviyo"            // klaviyo
	_ "github.com/cdpkit/cdp/sync/destinations/mailchimp"          // mailchimp
	_ "github.com/cdpkit/cdp/sync/destinations/metacustomaudience" // meta_custom_audience
	_ "github.com/cdpkit/cdp/sync/destinations/postgrestable"      // postgres_table
	_ "github.com/cdpkit/cdp/sync/destinations/salesforce"         // salesforce
	_ "github.com/cdpkit/cdp/sync/destinations/webhook"            // webhook
)
