package klaviyo

// specDoc is the reference page's body.
const specDoc = `Upserts each record as a Klaviyo profile through [bulk import jobs](https://developers.klaviyo.com/en/reference/bulk_import_profiles):
a batch becomes one job (several when its body would pass 5 MB), which is polled every ` + "`poll_interval`" + ` until it
completes; only then are its records delivered. Import errors reject their records; the profile IDs of the job are kept
as the records' remote IDs. The record key is the profile's email; destination fields name profile attributes
(` + "`first_name`, `phone_number`, …" + `), ` + "`location.<key>`" + `, or custom properties as ` + "`properties.<name>`" + `.

With ` + "`list_id`" + `, imported profiles join that list. Mode ` + "`mirror`" + ` needs it: leavers are removed from the list
by profile ID (the profile is kept). With ` + "`null_values: send`" + ` a null clears the field: the bulk import ignores nulls,
so each such profile is updated afterwards (Update Profile: attributes set to null, custom properties removed with
` + "`meta.patch_properties.unset`" + `).`
