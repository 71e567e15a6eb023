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
` + "`meta.patch_properties.unset`" + `).

A withdrawn consent is sent with [Bulk Unsubscribe Profiles](https://developers.klaviyo.com/en/reference/bulk_unsubscribe_profiles)
(` + "`POST /api/profile-subscription-bulk-delete-jobs`" + `): the profile's email marketing consent becomes ` + "`UNSUBSCRIBED`" + `
(and, with ` + "`list_id`" + `, it leaves the list). That is Klaviyo's unsubscribe from email marketing; suppression
(` + "`profile-suppression-bulk-create-jobs`" + `) is not used, because it stops every email, transactional ones included, and is
meant for bounces and spam complaints. Klaviyo creates an unsubscribed profile for an email it does not have.
` + "`cdp forget`" + ` sends [Request Profile Deletion](https://developers.klaviyo.com/en/reference/request_profile_deletion)
(` + "`POST /api/data-privacy-deletion-jobs`" + `, by the stored profile ID, else by email, which deletes every profile with it),
one a second (the endpoint allows 60 a minute). Both answer 202 and work asynchronously; the 202 is the confirmation and the
receipt is the job type with "HTTP 202" (the answers carry no job ID). Klaviyo does not say whether the person existed.`
